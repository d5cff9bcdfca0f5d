"""The faust-streaming app of youasked: agents decode, call the pure core in ``models``, send."""
