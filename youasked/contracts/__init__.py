"""Event schemas and topic declarations shared by streams/ and api/."""
