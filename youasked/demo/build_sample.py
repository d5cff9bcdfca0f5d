"""Build the bundled demo sample ``comments.jsonl``: social comments about one fictional product.

The product is **Trailmate** (product id ``trailmate``), a hiking and trail-navigation mobile app.
Every text below was written for this sample. Each text is listed under the category it was
written for (suggestion themes, one-off ideas, bugs, praise, questions, complaints, spam, abuse,
very short); those labels are *not* written to the output, they are here so the sample can be
read and its expected outcome checked. Platforms, authors, ids, timestamps and engagement are
drawn from ``random.Random(7)``, so running this script always writes the same file::

    .venv/bin/python -m youasked.demo.build_sample        # or: python youasked/demo/build_sample.py

The output has, in this order:

1. the valid comments, sorted by ``created_at`` (January to October 2026, later months busier),
   with two exact redeliveries (same platform + comment_id, same content) slipped in later on;
2. the brand's own replies in some of those threads (``speaker`` ``brand``; see
   :func:`brand_replies`), sorted by ``created_at``: the dialogue measures read them, the judge
   never does;
3. a block of INTENTIONALLY INVALID records (see :func:`intentionally_invalid_lines`), one per
   line, that ingest must dead-letter.
"""

from __future__ import annotations

import json
import random
import string
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("comments.jsonl")
PRODUCT = "trailmate"
SEED = 7


# --------------------------------------------------------------------------------------------
# Text specs
# --------------------------------------------------------------------------------------------


@dataclass
class Spec:
    """One comment to write: its text and whatever is fixed about it; the rest is drawn."""

    text: str
    lang: str | None = "en"
    on: str | None = None  # fixed platform; None = drawn
    title: str | None = None  # app_store review title
    rating: int | None = None  # fixed store rating; None = drawn for store platforms
    who: str | None = None  # fixed handle (same person on several platforms)
    ref: str | None = None  # name other specs can reply to
    reply_to: str | None = None  # ref of the comment this one replies to
    category: str = ""
    theme: str | None = None


def c(text: str, lang: str | None = "en", **kw: Any) -> Spec:
    return Spec(text=text, lang=lang, **kw)


def es(text: str, **kw: Any) -> Spec:
    return c(text, "es", **kw)


def de(text: str, **kw: Any) -> Spec:
    return c(text, "de", **kw)


def fr(text: str, **kw: Any) -> Spec:
    return c(text, "fr", **kw)


def store(title: str, text: str, rating: int, lang: str = "en") -> Spec:
    """An App Store review (the only kind with a title)."""
    return c(text, lang, on="app_store", title=title, rating=rating)


def copies(n: int, text: str, **kw: Any) -> list[Spec]:
    """The same text pasted by ``n`` different people (a copy-paste wave)."""
    return [c(text, **kw) for _ in range(n)]


# --- Valid suggestions, by theme -------------------------------------------------------------

OFFLINE_MAPS = [
    *copies(3, "Please add offline maps so I can use the app without signal!!"),
    c("@trailmate any plans for offline maps? half the trails I do have zero reception and the app "
      "just shows a grey grid 😩"),
    c("lost signal 2 miles in and the map went blank. let me download the area before I leave the "
      "trailhead pls"),
    c("Would love to be able to download a region for offline use. Paying for premium and still "
      "needing cell service is wild"),
    store("offline maps pls", "offline maps. that's it. that's the review.", 3),
    c("Need offline map download before my trip to Patagonia in march. Is that coming?? #trailmate"),
    c("Great app but it really needs downloadable maps. Mountains = no signal, who knew 🙃"),
    c("Feature request: let me save a trail + the surrounding map tiles for offline. Even a 10km "
      "radius would do.", on="forum", ref="offline-forum"),
    c("Can you add an option to download maps by area like other apps do? I keep screenshotting "
      "the map as a backup lol"),
    c("pls pls pls offline mode 🙏🙏"),
    c("Offline maps would make this a 5 star app. Right now I have to run a second app for "
      "backcountry."),
    es("¿Para cuándo mapas sin conexión? En la sierra no hay cobertura y así la app no sirve de nada"),
    es("Porfa agreguen descarga de mapas offline 🙏"),
    de("Bitte Offline-Karten zum Herunterladen einbauen! In den Alpen hab ich ständig kein Netz."),
    fr("Il faudrait vraiment pouvoir télécharger les cartes hors ligne, en montagne on capte rien"),
    c("i'd pay extra for an offline maps pack honestly"),
    c("Add offline topo downloads. Was in the Sierras last week and the app was useless after the "
      "first ridge."),
    c("the #1 thing missing: download trail maps to phone for when there's no service"),
    c("Any chance of offline map support? asking for literally every hiker ever"),
    c("@trailmate when are we getting offline maps?? no bars on half my routes 😭 #hiking",
      on="x", who="ana_hikes"),
    c("Love the new look but still begging for offline maps 🙏 my whole summer is no-signal trails",
      on="instagram", who="ana_hikes"),
    c("Cache the map tiles along my planned route automatically so it works offline. Please."),
    c("Offline maps!!! I keep saying it. Downloading the route line only is not enough, I need the "
      "map around it too"),
    c("Long time user here. My biggest wish is proper offline support: pick an area on the map, "
      "choose the zoom levels, download over wifi. Show me how much storage it takes and let me "
      "delete old regions. Other apps have had this for years and it's the one reason my hiking "
      "group hasn't switched over.", on="forum"),
    c("+1 for offline maps, this is the one thing I miss", on="forum", reply_to="offline-forum"),
    c("Solid app, but without offline maps it's a no-go for real backcountry. Add region downloads "
      "and I'll bump it to 5.", on="google_play", rating=4),
]

DARK_MODE = [
    c("Dark mode please! The white screen at 5am on a sunrise hike is blinding"),
    c("Any plans for a dark theme? My eyes at night camp 😵"),
    c("dark mode pls 🖤"),
    c("Would be great if the app followed the system dark mode setting. Everything else on my phone "
      "is dark except Trailmate lol"),
    c("night hiking + bright white map = no night vision. a dark/red night mode would be amazing"),
    c("Please add a dark theme. Also saves battery on OLED phones!"),
    c("@trailmate dark mode dark mode dark mode"),
    c("Is dark mode on the roadmap? I ask every update 😅"),
    de("Dunkelmodus wäre super, nachts im Zelt blendet die App extrem"),
    es("Por favor modo oscuro!! 🌚"),
    fr("Un mode sombre svp 🙏 la nuit c'est beaucoup trop lumineux"),
    store("Dark mode please", "Love it. Only wish: dark mode. Give us dark mode.", 4),
    c("how is there still no dark mode in 2026"),
    c("Make a dark version of the map style pls, the UI is blinding at dusk"),
    c("Request: dark mode that switches on automatically at sunset"),
    c("A red-light night mode like the astronomy apps have would be perfect for pre-dawn starts"),
    c("Adding my vote for dark/night mode. Ideally the map tiles go dark too, not just the menus.",
      on="forum"),
    *copies(2, "#darkmode when? @trailmate 🌙", on="x"),
    c("pls give us dark mode, my retinas are begging"),
]

WATCH_APP = [
    c("Apple Watch app please! I hate pulling my phone out every 5 min to check if I missed a turn",
      on="x", ref="watch-x"),
    c("Apple Watch app please! I hate pulling my phone out every 5 min to check if I missed a turn",
      on="x", reply_to="watch-x"),
    c("Need a Wear OS app so I can see the next turn on my wrist"),
    c("@trailmate Garmin/Apple Watch support?? Would make this perfect"),
    c("Would love a watch companion with turn-by-turn vibration alerts", on="facebook",
      who="mtn_mike_82"),
    c("Any watch app coming? Even a basic one. Phone in the pack, eyes on the wrist, that's all I "
      "want 🙏", on="youtube", who="mtn_mike_82"),
    c("any wearables support coming? galaxy watch user here"),
    c("Apple Watch complication with distance remaining + elevation would be 🔥"),
    c("Please make a watch app. Even a simple one that shows the direction arrow and distance"),
    c("pixel watch app when"),
    de("Gibt es bald eine App für die Apple Watch? Wäre mega praktisch beim Wandern"),
    es("Necesitamos app para el reloj (Wear OS) 🙏"),
    c("Standalone Apple Watch app that works when the phone stays in the pack = instant "
      "subscription renewal"),
    store("Watch app?", "Great on the phone but no Apple Watch app is a bummer. Navigation on the "
          "wrist is what I need.", 4),
    c("Wrist notifications for off-route would be amazing. Vibrate when I miss a junction."),
    c("Feature request: a Wear OS tile. Show current trail, distance to go, and a buzz when off "
      "route. I run with my phone in a vest and can't look at it.", on="forum"),
    fr("Une appli pour montre connectée ce serait top (Garmin ou Wear OS)"),
    c("smartwatch app 🙏⌚"),
]

GPX_EXPORT = [
    c("Let me export my recorded hike as GPX please. I want my elevation profile in other tools"),
    c("Can you add GPX export of the elevation profile? Need it for my trip reports"),
    c("gpx export!! my data is stuck in the app"),
    c("Feature request: export tracks as GPX/KML with elevation data"),
    c("Please add a way to download the elevation chart, either as GPX or even just a PNG"),
    c("need to send my route to my buddy's Garmin, export to GPX would solve it"),
    c("I planned a 3 day route in Trailmate and now I can't get it onto my GPS unit. Please add GPX "
      "export (track + waypoints + elevation).", on="forum"),
    de("GPX-Export fürs Höhenprofil wäre klasse, bitte nachrüsten", on="forum", who="bergfex_lena"),
    de("@trailmate wann kommt endlich der GPX-Export? 🙏", on="x", who="bergfex_lena"),
    c("why can I import GPX but not export it 🤔 pls add"),
    c("Would be nice to export the elevation profile for my blog posts"),
    es("Estaría genial poder exportar las rutas en GPX con la altimetría"),
    store("Let me export my data", "I've logged 400+ km here. Please let me export it as GPX, I "
          "don't want to be locked in.", 3),
    c("export elevation profile → gpx. would use it every weekend"),
    c("Any way to get the .gpx of a recorded hike? If not, please add it!"),
]

LIVE_LOCATION = [
    c("My mom worries every time I solo hike. Please add live location sharing with family!",
      on="instagram", ref="live-ig"),
    c("Share live location with family please. Safety first!", on="instagram", reply_to="live-ig"),
    c("Share live location with family please. Safety first!"),
    c("A safety check-in feature would be amazing. If I don't check in by a set time, it alerts my "
      "emergency contact"),
    c("@trailmate can you add a way for my partner to follow my hike live? like a shareable link"),
    c("live tracking link for friends/family would be huge for solo hikers, esp women hiking alone"),
    c("Please add an 'I'm overdue' alert that texts my contacts if I haven't finished by a set time"),
    es("Me encantaría poder compartir mi ubicación en tiempo real con mi familia mientras camino"),
    fr("Partage de position en direct avec la famille svp, pour la sécurité"),
    c("Feature idea: share my live location + planned route with one tap before I start"),
    c("Safety check-ins please. I hike alone a lot. What I want: set an expected finish time, pick "
      "2 contacts, and the app sends them my last known location if I don't end the hike. A "
      "battery friendly ping every 15 min would be plenty.", on="forum"),
    c("would pay for premium just for live location share tbh"),
    de("Live-Standort mit der Familie teilen wäre super für Solo-Touren"),
    c("Can my husband see where I am on the trail in real time? If not, please add that"),
    c("Emergency contact + auto check-in please. Saw a news story about a hiker missing for 3 days "
      "and it got me thinking"),
    c("live location for family pls 🙏"),
]

DIFFICULTY_FILTERS = [
    c("Please add a filter for kid-friendly trails! Searching with a 5yo and a 3yo is a puzzle"),
    c("Dog friendly filter please 🐕 I never know which trails allow dogs"),
    c("Can we filter trails by difficulty AND whether dogs are allowed?"),
    c("would love a 'family' filter: short, low elevation gain, bathroom at the trailhead lol"),
    es("Un filtro de rutas aptas para perros y niños sería genial"),
    c("filter for stroller friendly trails? asking as a new dad"),
    c("Need more search filters: difficulty, dog-friendly, kid-friendly, shade"),
    de("Filter für hundefreundliche Wege bitte! 🐶"),
    c("easy trails filter for my grandkids 👵 please"),
    c("Search filters request: difficulty level (easy/moderate/hard), dogs allowed/on leash, "
      "kid-friendly. Right now I read every trail description to find out.", on="forum"),
    c("@trailmate my pup and I want a dog filter 🐾 #hikingwithdogs"),
    c("pls add a 'good for kids' tag + filter"),
]

BATTERY_SAVER = [
    c("App drains my battery like crazy on long hikes. Please add a battery saver / low power "
      "tracking mode"),
    c("Battery saver mode would be awesome, GPS every 30s instead of every second is fine for me"),
    c("Could you add a low-battery mode that turns off the map rendering but keeps recording?"),
    c("Please add a power saving option. 8 hour hike and I'm at 10% by the end"),
    de("Ein Stromsparmodus wäre dringend nötig, nach 4 Std ist der Akku leer"),
    c("battery saver mode pls, i do multi day trips"),
    fr("Un mode économie de batterie pour les longues randos svp"),
    c("Feature request: 'expedition mode'. Lower GPS sampling, no map animations, screen-off "
      "recording. I'd happily trade some accuracy for a phone that survives 3 days.", on="forum"),
    c("Let me choose GPS accuracy vs battery life in settings"),
    c("Good app but the battery use is brutal. Add a power saver mode and it's perfect.",
      on="google_play", rating=3),
    c("low power mode for tracking please 🔋"),
]

UNITS_TOGGLE = [
    c("Please let me use km for distance but feet for elevation. I'm Canadian, we're weird 🇨🇦"),
    c("metric/imperial toggle per activity please. I run in km but hike in miles"),
    c("Can we get a units setting separate from the phone region? My phone is in US English but I "
      "want metric"),
    de("Bitte Einheiten pro Aktivität umstellbar machen (km/Meilen)"),
    c("Option to switch miles/km without changing the whole app would be great"),
    c("Would like imperial for trail running but metric for hiking. Separate settings per activity "
      "type?"),
    fr("Pouvoir choisir km ou miles selon l'activité, ce serait pratique"),
]

PHOTO_GEOTAG = [
    c("Would love if photos I take during a hike got pinned on the map where I took them"),
    c("Add photo geotagging on the trail! So I can see my pics along the route afterwards"),
    c("Can the app pin my photos to the track? Like a photo diary of the hike 📸"),
    es("Estaría bien que las fotos quedaran geolocalizadas en el mapa de la ruta"),
    c("feature idea: tap to take a pic inside the app and it drops a pin on the trail"),
    c("Photo markers on my recorded track pls. Would make sharing hikes so much nicer"),
]

TRAIL_CONDITIONS = [
    c("Let users report trail conditions! Mud, snow, fallen trees, washed out bridges"),
    c("A community trail conditions feed would be so useful. The last review from 2024 saying "
      "'great trail' doesn't help me"),
    c("Can we have recent condition reports on each trail? like 'icy above 2000m' posted today"),
    c("please add a way to flag hazards on trails (downed trees, closures) for other hikers"),
    de("Aktuelle Wegzustände von anderen Nutzern wären super (Schnee, Sperrungen)"),
    c("Feature request: trail condition reports. Short, dated, with a photo and a few tags "
      "(snow/mud/blowdown/closed). Show the latest on the trail page and expire them after 2 weeks.",
      on="forum"),
    c("user condition reports pls. showed up to a trail closed for logging last weekend 😤"),
    es("Que los usuarios puedan reportar el estado del sendero (barro, nieve, cerrado)"),
    c("@trailmate a 'conditions' tab where hikers post what it's like today would be 🔥"),
    c("Would love to see recent snow reports from other hikers before I head up"),
]

THEMES: dict[str, list[Spec]] = {
    "offline_maps": OFFLINE_MAPS,
    "dark_mode": DARK_MODE,
    "watch_app": WATCH_APP,
    "gpx_export": GPX_EXPORT,
    "live_location_safety": LIVE_LOCATION,
    "difficulty_filters": DIFFICULTY_FILTERS,
    "battery_saver": BATTERY_SAVER,
    "units_toggle": UNITS_TOGGLE,
    "photo_geotag": PHOTO_GEOTAG,
    "trail_conditions": TRAIL_CONDITIONS,
}

ONE_OFF_IDEAS = [
    c("would be cool if the app told me when sunset is and whether I'll make it back before dark "
      "at my current pace"),
    c("Add a water source layer (springs, streams) please"),
    c("Please support Android Auto so I can navigate to the trailhead from the app"),
    c("Would love a campsite booking integration"),
    de("Eine Anbindung an den ÖPNV zum Startpunkt wäre toll"),
    c("an audio guide mode that reads out the next junction would be neat"),
    c("Could you add a packing checklist per trip?"),
]

# --- Everything that is not a suggestion -----------------------------------------------------

BUGS = [
    c("App crashes every time I open it since the latest update. iPhone 15, iOS 26.1", on="x",
      ref="crash-x"),
    c("same here, crashes on my iPhone 12 too", on="x", reply_to="crash-x"),
    c("crashes on launch after the 4.3.0 update 😡"),
    c("Recording stopped halfway through my hike when the screen locked. Lost 9 km of track.",
      on="facebook", ref="gap-fb"),
    c("same, my track has a straight line gap in the middle", on="facebook", reply_to="gap-fb"),
    c("GPS keeps jumping around, showed me 300m off the trail in the forest"),
    c("Sync is broken, my hikes from last weekend aren't showing on my other phone"),
    c("Can't log in. It just loops back to the login screen"),
    c("Map tiles won't load, just grey squares. Tried wifi and 5G"),
    c("the elevation gain says 4,200 m for a hike that was maybe 600 m. something's off"),
    c("Subscription isn't recognized after reinstall. Restore purchases does nothing."),
    c("App freezes when I tap 'Start hike'. Have to force close."),
    c("Pixel 8, Android 16: app crashes when I open the trail details page"),
    c("After the update my saved trails are gone?!? All of them"),
    c("the pause button doesn't work, it kept recording in the car lol, now my hike says I walked "
      "60 km/h"),
    c("Notifications for off-route alerts don't show up at all"),
    c("App keeps asking for location permission every time I open it even though I chose 'always'"),
    c("Distance is way off, says 3.2 mi, my watch says 5.1"),
    c("Search returns no results for any trail since yesterday"),
    c("The app crashed mid-hike and the recording was gone. Not cool when you're relying on it."),
    c("crash when uploading photos to a trail review"),
    c("Compass points the wrong way on my Samsung S24"),
    c("Route planning: the line snaps to the road instead of the trail"),
    c("Saving a route spins forever and never finishes"),
    c("Sign in with Apple fails with 'unknown error'"),
    c("The map is upside down when I rotate the phone??"),
    c("the app logs me out every couple days"),
    c("Apple Health sync stopped working, hikes don't show up in Health anymore"),
    c("Time recorded is wrong, the hike was 3h and it says 11h 42m"),
    c("Trail reviews won't post. Says 'something went wrong' every time"),
    c("Black screen after the splash screen on iPad"),
    c("Audio cues stopped working after the update"),
    c("Battery drain is insane since 4.4: 40% in an hour even with the screen off"),
    c("the app won't open on my Moto G, it just closes"),
    c("Paid for annual premium, still shows ads and locked features"),
    c("The 'nearby trails' list shows trails 200 km away"),
    c("Map labels overlap and are unreadable at zoom 14+"),
    c("Tap on a waypoint and the app crashes. Every time."),
    c("My hike history shows every hike twice"),
    c("Keyboard covers the comment box, can't see what I'm typing (Android)"),
    c("Crashes when switching between map layers"),
    c("'GPS signal lost' error every few minutes even in open areas"),
    es("La app se cierra sola cuando intento grabar una ruta. Xiaomi, Android 15"),
    es("Desde la última actualización no me carga el mapa 😩"),
    es("No puedo iniciar sesión, me dice error de red pero tengo internet"),
    de("Seit dem Update stürzt die App beim Start ab. iPhone 13."),
    de("Aufzeichnung bricht nach ca. 20 Minuten einfach ab"),
    de("Die Höhenmeter stimmen überhaupt nicht, zeigt doppelt so viel an"),
    fr("L'appli plante dès que j'ouvre la carte. Dommage."),
    fr("Mes randos enregistrées ont disparu après la mise à jour ??"),
    store("Crashes constantly", "Used to love it, now it crashes every single time I start a "
          "recording. iOS 26.0.1, iPhone 14 Pro.", 1),
    store("Lost my hike", "Recorded a 6 hour hike and when I hit stop the app froze and the whole "
          "thing was gone. Devastated, it was my first summit.", 2),
    store("Login broken", "Can't get past the login screen since Tuesday. Reinstalled twice.", 1),
    c("Since the update it won't get past the loading screen. Galaxy A54.", on="google_play",
      rating=1),
    c("Tracking is really inaccurate in the latest version, it cuts corners on switchbacks",
      on="google_play", rating=2),
    c("[Bug] 4.5.0 Android: recording stops when battery optimization kicks in. Steps: start a "
      "hike, lock the screen, wait 10-15 min. The track has a straight line gap. Turning off "
      "battery optimization for the app fixes it, but most people won't know that.", on="forum"),
    c("[Bug] iOS: the elevation chart shows negative values on sea level hikes (-40 m). Coastal "
      "trail near Big Sur.", on="forum"),
    c("@trailmate your app just ate my 14 mile hike. Crashed at the summit. 🙃"),
    c("home screen widget shows 0 km for everything"),
    c("the share button does nothing on iOS"),
    c("Can't delete a hike. I press delete, it comes back after a restart"),
    c("Units keep resetting to miles after every restart"),
    c("App says I'm offline when I'm clearly not"),
    c("The map flickers white when zooming fast on my Pixel 7"),
    c("Elevation profile won't load for any trail in Colorado"),
]

PRAISE = [
    c("Best hiking app I've used, hands down 🙌"),
    c("Trailmate got me through my first 20 miler. Thank you!!"),
    c("love this app so much"),
    c("The new trail pages look amazing, great job team"),
    c("Used it all over Scotland last month, flawless 🏴"),
    c("Finally an app that doesn't feel like a spreadsheet. Clean and simple"),
    c("@trailmate you guys rock. Found 3 new favourite trails this month #trailmate #hikinglife",
      on="instagram", ref="praise-ig"),
    c("10/10 would get lost again (but didn't, thanks to you 😂)"),
    c("The route planner is so smooth now. Huge improvement"),
    es("¡Me encanta esta app! La uso todos los fines de semana 🥾"),
    es("Muy buena aplicación, fácil de usar y con muchas rutas"),
    de("Super App, nutze sie jedes Wochenende. Weiter so!"),
    de("Endlich eine Wander-App, die einfach funktioniert 👍"),
    fr("Super appli, merci l'équipe !"),
    store("Perfect hiking companion", "Been using Trailmate for 2 years. Trails are accurate, the "
          "app is fast, and support answered me within a day when I had an issue.", 5),
    store("Love it", "Simple, pretty, does what it says.", 5),
    c("Great app! Works well on my old phone too.", on="google_play", rating=5),
    c("Excellent trail info and the reviews from other hikers are super helpful.", on="google_play",
      rating=5),
    c("Shoutout to the Trailmate team for the quick bug fix last week 🙏"),
    c("This app is the reason I started hiking. 6 months, 40 trails 💚"),
    c("Planned my dad's first hike with this app. He loved it. Thanks!"),
    c("The off-route warning saved me from a wrong turn in the fog yesterday. Legit useful."),
    c("obsessed w this app"),
    c("the new route sharing is sweet, thanks for listening"),
    c("Just wanted to say thanks. Walked the whole West Highland Way with Trailmate as my only "
      "navigation. Not a single issue.", on="forum"),
    c("best $30 I spend every year"),
    c("the elevation graphs are so pretty 😍"),
    c("Trailmate + sunrise = perfect Saturday ☀️⛰️ #trailmate"),
    c("I've tried 4 hiking apps and I keep coming back to this one"),
    c("customer support was super nice and fixed my account issue fast"),
    c("Honestly the best UI of any outdoor app"),
    c("Used it on our honeymoon trek in the Dolomites 💍 flawless"),
]

QUESTIONS = [
    c("How do I save a trail to my list?"),
    c("how do i change the units to km?"),
    c("Does Trailmate work in Japan? Heading to the Kumano Kodo in May"),
    c("Is there a way to import a GPX file from a friend?"),
    c("How do I cancel my subscription?"),
    c("Can I use the app on two phones with one account?"),
    c("How do you delete a recorded hike?"),
    c("does the free version have the route planner?"),
    c("How do I turn off the voice guidance?"),
    c("what's the difference between premium and premium+?"),
    c("Is there a student discount? 🙂"),
    c("How do I add a friend in the app?"),
    c("Does the app count steps or only distance?"),
    c("How accurate is the elevation data? Where does it come from?"),
    es("¿Cómo se cambia el idioma de la app?"),
    es("¿Funciona en Android 10?"),
    de("Wie kann ich eine Route mit Freunden teilen?"),
    fr("Comment je supprime mon compte ?"),
    c("how do I report a wrong trail on the map?"),
    c("Where are my saved hikes stored? can I back them up?"),
    c("Does it work on iPad?"),
    c("Can I plan a route that's a loop automatically?"),
    c("how do i get the map to rotate with the direction i'm facing?"),
    c("Is the Pacific Crest Trail fully mapped in the app?"),
    c("What do the colors on the trail lines mean? Red vs orange vs blue. Couldn't find it in the "
      "help pages.", on="forum"),
    c("Hi! What does the 'verified' badge on some trails mean?"),
]

COMPLAINTS = [
    c("Price went up again. $45 a year now. Not happy."),
    c("Too many popups asking me to upgrade. Annoying."),
    c("The new design is worse than the old one honestly"),
    c("Why does every update make it slower"),
    c("I miss the old trail icons 😒"),
    c("support never replied to my email. 2 weeks."),
    c("Subscription auto-renewed without any warning. Lame."),
    c("The trail I wanted is behind the paywall now. Used to be free."),
    c("Meh. Used to be better."),
    es("Cada vez más caro y con menos rutas gratis 😒"),
    de("Das neue Design ist einfach unübersichtlich."),
    fr("Trop de pubs dans la version gratuite, c'est pénible"),
    store("Not what it used to be", "Slow, cluttered, too many upsells. I've been a user since 2021 "
          "and it's gone downhill.", 2),
    c("Ok app but way overpriced for what you get", on="google_play", rating=2),
    c("Trail ratings on here are way too generous, 'easy' my foot"),
    c("Spent 20 minutes looking for the settings menu after the redesign"),
]

SPAM = [
    c("🔥 Get 50% off premium hiking gear! Use promo code HIKE50 at www.peakdealz-shop.com 🔥"),
    c("Follow me for daily hiking content!! 🥾 @summit.vibes.daily", on="instagram",
      reply_to="praise-ig"),
    c("Earn $500/day from home 💰 DM me to learn how"),
    c("🚀 $TRAIL token presale LIVE 🚀 100x guaranteed, link in bio"),
    c("check out my channel for trail vlogs!! subscribe 🙏 youtube.com/@hikingwithjayz"),
    c("Nice post! Visit bit.ly/3xFreeGear for FREE hiking boots 👢"),
    c("Crypto signals group, 90% win rate, join t.me/cryptotrailz"),
    c("promo code FREEHIKE for 3 months free premium!!! hurry"),
    c("I made $3,200 this week with this trading app 👉 tradeup-now.biz"),
    c("Follow for follow? 🔁"),
    c("Want more followers? We grow your account organically 📈 DM us"),
    es("Gana dinero fácil desde casa 💸 escríbeme al DM"),
    c("Buy cheap Trailmate premium accounts here: trailmate-premium-cheap.shop"),
    c("CONGRATS you've been selected for a free GoPro!! claim at gopro-giveaway-win.xyz 🎁"),
    c("Bitcoin doubled my savings, ask me how 🤑"),
    c("Check out my hiking shop! use code SUMMIT20 for 20% off at summitsupply.store"),
]

ABUSIVE = [
    c("this app is trash and so are the devs"),
    c("whoever designed the new UI should be fired, absolute clowns 🤡"),
    c("@trailmate you're a bunch of greedy idiots"),
    c("Worst app ever, made by morons"),
    c("Devs are clueless. Delete this garbage."),
    de("Was für eine Schrott-App, ihr Vollpfosten"),
    c("shut up and fix your garbage app, nobody cares about your posts"),
]

VERY_SHORT = [
    c("👍", None),
    c("ok", None),
    c("🔥🔥🔥", None),
    c("⛰️🥾", None),
    c("nice"),
    c("💚", None),
    c("lol"),
    c("first"),
    c("😂", None),
    c("👀", None),
]

CATEGORIES: dict[str, list[Spec]] = {
    "bug": BUGS,
    "praise": PRAISE,
    "question": QUESTIONS,
    "complaint": COMPLAINTS,
    "spam": SPAM,
    "abusive": ABUSIVE,
    "very_short": VERY_SHORT,
}


# --------------------------------------------------------------------------------------------
# Platforms, people, ids, times
# --------------------------------------------------------------------------------------------

# Where each category tends to be posted (app_store is only used by specs that fix it, because
# App Store reviews always have a title).
PLATFORM_WEIGHTS: dict[str, dict[str, int]] = {
    "suggestion": {"x": 20, "instagram": 12, "facebook": 12, "tiktok": 6, "youtube": 7,
                   "google_play": 12, "forum": 6, "other": 4},
    "bug": {"x": 18, "instagram": 4, "facebook": 10, "tiktok": 3, "youtube": 4, "google_play": 20,
            "forum": 6, "other": 3},
    "praise": {"x": 12, "instagram": 16, "facebook": 8, "tiktok": 8, "youtube": 8,
               "google_play": 6, "other": 2},
    "question": {"x": 12, "instagram": 8, "facebook": 12, "tiktok": 4, "youtube": 6, "forum": 6,
                 "other": 4},
    "complaint": {"x": 14, "instagram": 4, "facebook": 8, "tiktok": 4, "youtube": 3,
                  "google_play": 8, "other": 3},
    "spam": {"x": 8, "instagram": 12, "facebook": 6, "tiktok": 8, "youtube": 8},
    "abusive": {"x": 10, "instagram": 4, "facebook": 4, "tiktok": 4, "youtube": 4},
    "very_short": {"x": 3, "instagram": 8, "tiktok": 8, "youtube": 5, "facebook": 3},
}

MONTH_WEIGHTS = [4, 5, 6, 7, 8, 10, 11, 13, 15, 17]  # Jan..Oct 2026: later months busier
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)

FORUM_TOPICS = {  # (slug, topic id) per theme / category
    "offline_maps": ("offline-maps-when", 231),
    "dark_mode": ("dark-mode-please", 187),
    "watch_app": ("wear-os-and-apple-watch-support", 244),
    "gpx_export": ("export-to-gpx", 256),
    "live_location_safety": ("safety-check-ins-for-solo-hikers", 262),
    "difficulty_filters": ("search-filters-dogs-kids-difficulty", 270),
    "battery_saver": ("expedition-mode-battery-saver", 275),
    "units_toggle": ("units-per-activity", 277),
    "photo_geotag": ("photos-on-the-track", 279),
    "trail_conditions": ("trail-condition-reports", 281),
    "one_off": ("feature-requests-misc", 112),
    "bug": ("bug-reports-4-x", 290),
    "praise": ("trip-reports", 98),
    "question": ("help-and-how-to", 45),
}
SUBREDDITS = ["hiking", "CampingandHiking", "Ultralight", "WildernessBackpacking"]

FIRST = {
    "en": ["ana", "ben", "carla", "dan", "emma", "finn", "grace", "hank", "isla", "jay", "kate",
           "liam", "maya", "nate", "olivia", "pete", "quinn", "rosa", "sam", "tara", "uma",
           "vic", "will", "zoe", "chloe", "dev", "jess", "marcus", "nina", "owen", "priya", "ryan"],
    "es": ["lucia", "javi", "carmen", "diego", "marta", "pablo", "sofia", "andres", "elena"],
    "de": ["lena", "jonas", "anna", "felix", "katrin", "lukas", "mia", "tobi"],
    "fr": ["camille", "louis", "chloe", "hugo", "manon", "theo", "lea"],
}
PATTERNS = {
    "en": ["{n}_hikes", "{n}.outdoors", "trail{n}", "{n}_on_trail", "{n}{d}", "{n}goeshiking",
           "summit_{n}", "{n}.wanders", "the_{n}_life", "{n}runs{d}"],
    "es": ["{n}_montana", "{n}.senderista", "{n}{d}", "rutas_{n}", "{n}_trekking"],
    "de": ["{n}.wandert", "bergfex_{n}", "{n}{d}", "{n}_unterwegs", "gipfel_{n}"],
    "fr": ["{n}_rando", "{n}.montagne", "{n}{d}", "rando_{n}"],
}
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B36 = string.ascii_lowercase + string.digits
X_EPOCH_MS = 1288834974657


@dataclass
class Record:
    spec: Spec
    platform: str
    handle: str
    created_at: datetime
    comment_id: str = ""
    author_id: str = ""
    thread_id: str | None = None
    parent_id: str | None = None
    url: str | None = None
    engagement: dict[str, int] | None = None
    rating: int | None = None


class Builder:
    """Draws everything that is not fixed by the specs, in one deterministic order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: dict[str, list[str]] = {lang: self._handles(lang) for lang in FIRST}
        self.author_ids: dict[tuple[str, str], str] = {}
        self.comment_ids: dict[str, set[str]] = {}
        self.threads: dict[tuple[str, int, str], tuple[str, datetime]] = {}
        self.forum_posts: Counter[int] = Counter()

    # --- people ---------------------------------------------------------------------------

    def _handles(self, lang: str) -> list[str]:
        out: list[str] = []
        size = {"en": 190, "es": 30, "de": 28, "fr": 18}[lang]
        while len(out) < size:
            name = self.rng.choice(FIRST[lang])
            pattern = self.rng.choice(PATTERNS[lang])
            handle = pattern.format(n=name, d=self.rng.randint(2, 99))
            if handle not in out:
                out.append(handle)
        return out

    def person(self, lang: str | None, avoid: set[str]) -> str:
        pool = self.people.get(lang or "en", self.people["en"])
        while True:
            handle = self.rng.choice(pool)
            if handle not in avoid:
                return handle

    def author_id(self, platform: str, handle: str) -> str:
        key = (platform, handle)
        if key not in self.author_ids:
            r = self.rng
            self.author_ids[key] = {
                "x": lambda: str(r.randint(10**9, 10**19 - 1)),
                "instagram": lambda: str(r.randint(10**9, 10**11 - 1)),
                "facebook": lambda: "1000" + "".join(r.choices(string.digits, k=11)),
                "tiktok": lambda: str(r.randint(6 * 10**18, 7 * 10**18)),
                "youtube": lambda: "UC" + "".join(r.choices(B64URL, k=22)),
                "app_store": lambda: str(r.randint(10**9, 10**10 - 1)),
                "google_play": lambda: str(r.randint(10**20, 10**21 - 1)),
                "forum": lambda: str(r.randint(1200, 48000)),
                "other": lambda: "t2_" + "".join(r.choices(B36, k=8)),
            }[platform]()
        return self.author_ids[key]

    # --- platforms and times --------------------------------------------------------------

    def platform(self, spec: Spec) -> str:
        if spec.on:
            return spec.on
        weights = dict(PLATFORM_WEIGHTS[spec.category])
        text = spec.text
        if len(text) > 150:
            weights.pop("tiktok", None)
        if len(text) > 270:
            weights.pop("x", None)
        if "#" in text or "@trailmate" in text:
            for name in ("google_play", "forum", "other"):
                weights.pop(name, None)
        names = list(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def created_at(self) -> datetime:
        month = self.rng.choices(range(1, 11), weights=MONTH_WEIGHTS)[0]
        first = datetime(2026, month, 1, tzinfo=UTC)
        last = datetime(2026, month + 1, 1, tzinfo=UTC)
        # daytime-heavy: people post in the evening after a hike more than at 4am
        day = self.rng.randrange((last - first).days)
        hour = self.rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5,
                                                     5, 5, 5, 6, 7, 8, 9, 9, 8, 6, 4, 2])[0]
        return first + timedelta(days=day, hours=hour, minutes=self.rng.randrange(60),
                                 seconds=self.rng.randrange(60))

    # --- ids ------------------------------------------------------------------------------

    def _unique(self, platform: str, make: Any) -> str:
        seen = self.comment_ids.setdefault(platform, set())
        while True:
            value = str(make())
            if value not in seen:
                seen.add(value)
                return value

    def snowflake(self, when: datetime) -> str:
        ms = int(when.timestamp() * 1000) - X_EPOCH_MS
        return str((ms << 22) | self.rng.getrandbits(22))

    def thread(self, platform: str, when: datetime, topic: str) -> tuple[str, datetime]:
        """The brand post of ``platform`` that comments of ``when``'s month sit under."""
        key = (platform, when.month, topic if platform == "other" else "")
        if key not in self.threads:
            posted = datetime(2026, when.month, 1, 9, tzinfo=UTC) + timedelta(
                hours=self.rng.randrange(6))
            r = self.rng
            thread_id = {
                "x": lambda: self.snowflake(posted),
                "instagram": lambda: "".join(r.choices(B64URL, k=11)),
                "facebook": lambda: str(r.randint(10**14, 10**15 - 1)),
                "tiktok": lambda: str(r.randint(7 * 10**18, 75 * 10**17)),
                "youtube": lambda: "".join(r.choices(B64URL, k=11)),
                "other": lambda: "1" + "".join(r.choices(B36, k=6)),
            }[platform]()
            self.threads[key] = (thread_id, posted)
        return self.threads[key]

    def place(self, rec: Record, parent: Record | None) -> None:
        """Give ``rec`` its comment id, thread, parent and url."""
        r, p, when = self.rng, rec.platform, rec.created_at
        topic_key = rec.spec.theme or rec.spec.category
        if parent is not None:
            rec.thread_id, rec.parent_id = parent.thread_id, parent.comment_id
        handle = platform_handle(p, rec.handle)
        if p == "x":
            rec.comment_id = self._unique(p, lambda: self.snowflake(when))
            if rec.parent_id is None:
                # about half reply to the brand's monthly post, the rest are standalone mentions
                rec.thread_id = (self.thread(p, when, "")[0] if r.random() < 0.5
                                 else rec.comment_id)
            rec.url = f"https://x.com/{handle}/status/{rec.comment_id}"
        elif p == "instagram":
            rec.comment_id = self._unique(p, lambda: "18" + "".join(r.choices(string.digits, k=15)))
            rec.thread_id = rec.thread_id or self.thread(p, when, "")[0]
            rec.url = f"https://www.instagram.com/p/{rec.thread_id}/c/{rec.comment_id}/"
        elif p == "facebook":
            rec.thread_id = rec.thread_id or self.thread(p, when, "")[0]
            rec.comment_id = self._unique(p, lambda: f"{rec.thread_id}_{r.randint(10**14, 10**15 - 1)}")
            rec.url = (f"https://www.facebook.com/trailmateapp/posts/{rec.thread_id}"
                       f"?comment_id={rec.comment_id.split('_')[1]}")
        elif p == "tiktok":
            rec.comment_id = self._unique(p, lambda: str(r.randint(7 * 10**18, 75 * 10**17)))
            rec.thread_id = rec.thread_id or self.thread(p, when, "")[0]
            rec.url = f"https://www.tiktok.com/@trailmate/video/{rec.thread_id}"
        elif p == "youtube":
            rec.comment_id = self._unique(p, lambda: "Ug" + r.choice("wxyz")
                                          + "".join(r.choices(B64URL, k=19)) + "4AaABAg")
            rec.thread_id = rec.thread_id or self.thread(p, when, "")[0]
            rec.url = f"https://www.youtube.com/watch?v={rec.thread_id}&lc={rec.comment_id}"
        elif p == "app_store":
            rec.comment_id = self._unique(p, lambda: str(r.randint(10**10, 10**11 - 1)))
        elif p == "google_play":
            rec.comment_id = self._unique(p, lambda: str(uuid.UUID(int=r.getrandbits(128), version=4)))
            rec.url = ("https://play.google.com/store/apps/details?id=app.trailmate"
                       f"&reviewId={rec.comment_id}")
        elif p == "forum":
            slug, topic_id = FORUM_TOPICS.get(topic_key, FORUM_TOPICS["one_off"])
            rec.comment_id = self._unique(p, lambda: str(r.randint(3000, 26000)))
            rec.thread_id = str(topic_id)
            # post numbers are given in time order once everything is placed (see number_forum)
            rec.url = f"https://forum.trailmate.app/t/{slug}/{topic_id}"
        elif p == "other":  # Reddit
            sub = SUBREDDITS[sum(map(ord, topic_key)) % len(SUBREDDITS)]
            rec.thread_id = rec.thread_id or self.thread(p, when, topic_key)[0]
            rec.comment_id = self._unique(p, lambda: "".join(r.choices(B36, k=7)))
            rec.url = (f"https://www.reddit.com/r/{sub}/comments/{rec.thread_id}/"
                       f"trailmate/{rec.comment_id}/")
        if p in {"x", "tiktok", "youtube", "instagram", "facebook"} and parent is None:
            # a comment under a brand post must be later than the post
            posted = self.threads.get((p, when.month, ""), (None, START))[1]
            if rec.created_at <= posted:
                rec.created_at = posted + timedelta(minutes=r.randint(5, 240))

    def engagement(self, rec: Record) -> dict[str, int] | None:
        r = self.rng
        boost = {"suggestion": 1.0, "bug": 0.6, "praise": 0.8, "spam": -1.0, "abusive": 0.2,
                 "very_short": -0.3}.get(rec.spec.category, 0.0)
        likes = int(r.lognormvariate(1.0 + boost, 1.1))
        replies = int(r.lognormvariate(-0.3 + boost / 2, 1.0))
        shares = int(r.lognormvariate(-1.2 + boost / 2, 1.0))
        return {
            "x": {"likes": likes, "replies": replies, "shares": shares},
            "instagram": {"likes": likes, "replies": replies},
            "facebook": {"likes": likes, "replies": replies},
            "tiktok": {"likes": likes * 3, "replies": replies},
            "youtube": {"likes": likes, "replies": replies},
            "forum": {"likes": likes, "replies": replies},
            "google_play": {"likes": likes // 2},  # "helpful" votes
            "other": {"likes": likes, "replies": replies},
        }.get(rec.platform)

    def rating(self, rec: Record) -> int | None:
        if rec.platform not in {"app_store", "google_play"}:
            return None
        if rec.spec.rating is not None:
            return rec.spec.rating
        stars = {"suggestion": [0, 0, 3, 5, 2], "bug": [5, 4, 2, 0, 0], "praise": [0, 0, 0, 2, 8],
                 "question": [0, 0, 2, 3, 3], "complaint": [4, 5, 1, 0, 0],
                 "spam": [0, 0, 0, 0, 1], "abusive": [1, 0, 0, 0, 0],
                 "very_short": [0, 0, 1, 2, 5]}[rec.spec.category]
        return self.rng.choices(range(1, 6), weights=stars)[0]


def all_specs() -> list[Spec]:
    """Every spec, labelled with its category and theme."""
    specs: list[Spec] = []
    for theme, items in THEMES.items():
        for spec in items:
            spec.category, spec.theme = "suggestion", theme
            specs.append(spec)
    for spec in ONE_OFF_IDEAS:
        spec.category, spec.theme = "suggestion", "one_off"
        specs.append(spec)
    for category, items in CATEGORIES.items():
        for spec in items:
            spec.category = category
            specs.append(spec)
    return specs


def build_records(rng: random.Random) -> list[Record]:
    b = Builder(rng)
    specs = all_specs()
    rng.shuffle(specs)  # so the draws are not grouped by category
    # parents first, so replies can take their platform, thread and time
    specs.sort(key=lambda s: s.reply_to is not None)
    by_ref: dict[str, Record] = {}
    handles_of_text: dict[str, set[str]] = {}
    records: list[Record] = []
    for spec in specs:
        parent = by_ref.get(spec.reply_to) if spec.reply_to else None
        platform = parent.platform if parent else b.platform(spec)
        avoid = handles_of_text.setdefault(spec.text, set())  # copy-pasters are different people
        if parent is not None:
            avoid = avoid | {parent.handle}
        handle = spec.who or b.person(spec.lang, avoid)
        handles_of_text[spec.text].add(handle)
        when = (parent.created_at + timedelta(minutes=rng.randint(7, 2 * 24 * 60))
                if parent else b.created_at())
        rec = Record(spec=spec, platform=platform, handle=handle, created_at=min(when, END))
        rec.author_id = b.author_id(platform, handle)
        b.place(rec, parent)
        rec.engagement = b.engagement(rec)
        rec.rating = b.rating(rec)
        records.append(rec)
        if spec.ref:
            by_ref[spec.ref] = rec
    records.sort(key=lambda rec: (rec.created_at, rec.platform, rec.comment_id))
    # forum post numbers in time order within each topic
    for rec in records:
        if rec.platform == "forum":
            b.forum_posts[int(rec.thread_id or 0)] += 1
            rec.url = f"{rec.url}/{b.forum_posts[int(rec.thread_id or 0)]}"
    return records


def platform_handle(platform: str, handle: str) -> str:
    """The handle as ``platform`` allows it (X: letters, digits and underscores, at most 15)."""
    return handle.replace(".", "_")[:15] if platform == "x" else handle


def to_json(rec: Record) -> dict[str, Any]:
    """The wire form of a record: the fields of ``CommentReceived``, unknown ones omitted."""
    spec = rec.spec
    out: dict[str, Any] = {
        "comment_id": rec.comment_id,
        "platform": rec.platform,
        "product": PRODUCT,
        "author_id": rec.author_id,
    }
    if rec.platform not in {"app_store", "google_play"}:
        out["author_handle"] = (("u/" if rec.platform == "other" else "@")
                                + platform_handle(rec.platform, rec.handle))
    out["text"] = spec.text
    out["created_at"] = rec.created_at.isoformat()
    for name in ("thread_id", "parent_id", "url"):
        if getattr(rec, name) is not None:
            out[name] = getattr(rec, name)
    if spec.lang:
        out["language"] = spec.lang
    if rec.engagement is not None:
        out["engagement"] = rec.engagement
    if rec.rating is not None:
        out["rating"] = rec.rating
    if spec.title is not None:
        out["title"] = spec.title
    return out


# --------------------------------------------------------------------------------------------
# The brand's replies: Trailmate's own accounts answering in threads.
# --------------------------------------------------------------------------------------------

BRAND_ACCOUNTS: dict[str, tuple[str, str]] = {
    "x": ("1450391827", "@trailmate"),
    "instagram": ("41873302216", "@trailmate.app"),
    "facebook": ("100064728150331", "@trailmateapp"),
    "tiktok": ("6911804672035119105", "@trailmate"),
    "youtube": ("UCq3TrailmateHikeApp0fA9", "@trailmate"),
    "forum": ("2", "@trailmate_team"),
    "other": ("t2_trlmte01", "u/trailmate_team"),
}
"""``(author_id, author_handle)`` of the product's own account on each platform it answers on."""

BRAND_REPLY_TEXTS: dict[str, list[str]] = {
    # a public answer closes the thread where it is; a DM, a form or a support link escalates it
    "suggestion": [
        "Thanks for the idea! We've passed it on to the product team.",
        "Love this, thank you. It's on the list the team reads every week.",
        "Thanks! Could you DM us how you'd use it on the trail? It helps the team a lot.",
        "Good one, noted for the team. Happy trails!",
    ],
    "bug": [
        "Sorry about that! Could you DM us your phone model and app version?",
        "Sorry for the trouble. Please fill in the form at https://trailmate.app/help/report and we'll look.",
        "Thanks for flagging it. A fix is in the next update.",
        "Sorry! Does it still happen after restarting the app? If so, send us a DM with the trail name.",
    ],
    "question": [
        "Good question: not yet, but we've noted it for the team.",
        "Yes! Open the trail, tap the three dots and pick Save for later.",
        "Not at the moment, sorry. We've added your vote to the request.",
    ],
    "praise": [
        "Thank you, that made our day. Happy trails!",
        "So glad to hear it! Enjoy the hike.",
    ],
    "complaint": [
        "Sorry to hear that. DM us and we'll make it right.",
        "Thanks for telling us, and sorry. We've shared this with the team.",
    ],
}
"""What the brand says, by what the thread's first message was written as; texts written for
this sample. Threads that open with spam, abuse or a one-word post get no answer."""

REPLY_SHARE = 0.6
"""Share of the threads (opened in English) the brand answers."""


def _reply_delay(rng: random.Random, asked: datetime) -> timedelta:
    """How long the brand takes: quick in office hours (Monday to Friday, 09:00-17:00 UTC), else
    by the next working morning, and now and then a day or two late.
    """
    late = rng.random()
    if late < 0.12:
        return timedelta(hours=rng.randint(26, 60), minutes=rng.randrange(60))
    if asked.weekday() < 5 and 9 <= asked.hour < 16:
        return timedelta(minutes=rng.randint(8, 150) if late < 0.85 else rng.randint(150, 300))
    opening = asked.replace(hour=9, minute=0, second=0, microsecond=0)
    if asked.hour >= 9:
        opening += timedelta(days=1)
    while opening.weekday() >= 5:
        opening += timedelta(days=1)
    return opening - asked + timedelta(minutes=rng.randint(5, 90))


def _reply_id(rng: random.Random, platform: str, thread_id: str, at: datetime) -> str:
    """A comment id of the platform's form for a reply posted at ``at``."""
    if platform == "x":
        return str(((int(at.timestamp() * 1000) - X_EPOCH_MS) << 22) | rng.getrandbits(22))
    return {
        "instagram": lambda: str(rng.randint(17 * 10**16, 18 * 10**16)),
        "facebook": lambda: f"{thread_id}_{rng.randint(10**14, 10**15 - 1)}",
        "tiktok": lambda: str(rng.randint(7 * 10**18, 75 * 10**17)),
        "youtube": lambda: "Ugx" + "".join(rng.choices(B64URL, k=20)),
        "forum": lambda: str(rng.randint(1000, 99999)),
        "other": lambda: "".join(rng.choices(B36, k=7)),
    }[platform]()


def brand_replies(records: list[Record], rng: random.Random) -> list[dict[str, Any]]:
    """The wire form of the brand's replies, in time order: for about :data:`REPLY_SHARE` of the
    threads opened in English on a platform with a brand account, one reply to the thread's first
    message (``parent_id``), later than it and no later than the sample's end.
    """
    first: dict[tuple[str, str], Record] = {}
    for rec in records:  # records are in time order: the first seen is the thread's opening
        if rec.thread_id and rec.platform in BRAND_ACCOUNTS:
            first.setdefault((rec.platform, rec.thread_id), rec)
    taken = {(rec.platform, rec.comment_id) for rec in records}
    out: list[dict[str, Any]] = []
    for (platform, thread_id), opening in first.items():
        texts = BRAND_REPLY_TEXTS.get(opening.spec.category)
        if not texts or opening.spec.lang != "en" or rng.random() >= REPLY_SHARE:
            continue
        at = opening.created_at + _reply_delay(rng, opening.created_at)
        if at > END:
            continue
        while True:
            comment_id = _reply_id(rng, platform, thread_id, at)
            if (platform, comment_id) not in taken:
                taken.add((platform, comment_id))
                break
        author_id, handle = BRAND_ACCOUNTS[platform]
        out.append({
            "comment_id": comment_id,
            "platform": platform,
            "product": PRODUCT,
            "author_id": author_id,
            "author_handle": handle,
            "text": rng.choice(texts),
            "created_at": at.isoformat(),
            "thread_id": thread_id,
            "parent_id": opening.comment_id,
            "language": "en",
            "speaker": "brand",
        })
    out.sort(key=lambda reply: (reply["created_at"], reply["platform"], reply["comment_id"]))
    return out


# --------------------------------------------------------------------------------------------
# INTENTIONALLY INVALID records: ingest must dead-letter every one of these.
# --------------------------------------------------------------------------------------------


def intentionally_invalid_lines() -> list[tuple[str, str]]:
    """``(expected dead-letter reason, line)`` for each deliberately broken record.

    They are appended after the valid comments. None of them is a mistake in this file.
    """
    base: dict[str, Any] = {
        "comment_id": "bad-0",
        "platform": "x",
        "product": PRODUCT,
        "author_id": "4417728190",
        "author_handle": "@broken_record",
        "text": "offline maps please, I keep losing signal",
        "created_at": "2026-10-12T14:03:51+00:00",
        "language": "en",
    }

    def variant(n: int, **changes: Any) -> str:
        record = {**base, "comment_id": f"bad-{n}", **changes}
        return json.dumps({k: v for k, v in record.items() if v is not _DROP}, ensure_ascii=False)

    lines = [
        # 1. not JSON at all (unquoted key, unterminated)
        ("not_json", '{"comment_id": "bad-1", "platform": "x", text: "dark mode pls'),
        # 2. a JSON array, not an object
        ("not_object", json.dumps(["x", "bad-2", "trailmate", "dark mode pls"])),
        # 3. a JSON string, not an object
        ("not_object", json.dumps("Please add offline maps so I can use the app without signal!!")),
        # 4. an object without the required `text`
        ("invalid_fields", variant(4, text=_DROP)),
        # 5. `text` of whitespace only (spaces, tab, newline, no-break space)
        ("empty_text", variant(5, text="  \t \n \u00a0 ")),
        # 6. a platform we do not know
        ("unknown_platform", variant(6, platform="myspace")),
        # 7. created_at without a timezone
        ("invalid_fields", variant(7, created_at="2026-05-03T10:15:00")),
        # 8. created_at far in the future
        ("future_timestamp", variant(8, created_at="2099-06-01T12:00:00+00:00")),
        # 9. a store rating out of 1..5
        ("invalid_fields", variant(9, platform="google_play", author_handle=_DROP, rating=9)),
        # 10. a field the schema does not have
        ("invalid_fields", variant(10, sentiment="positive")),
        # 11. comment_id that is an object, not a string
        ("invalid_fields", variant(11, comment_id={"id": 11, "source": "x"})),
        # 12. a 12,000-character text (over the 10,000-character limit)
        ("text_too_long", variant(12, text=("please add offline maps!! " * 462)[:12_000])),
    ]
    return lines


_DROP = object()  # marks a field removed from an intentionally invalid variant


# --------------------------------------------------------------------------------------------


def build() -> tuple[list[str], dict[str, Any]]:
    """The output lines and a summary of what is in them."""
    rng = random.Random(SEED)
    records = build_records(rng)
    lines = [json.dumps(to_json(rec), ensure_ascii=False) for rec in records]

    # Two exact redeliveries: the same line again, some way further on (as a producer retry would).
    redelivered = []
    for original in (37, 181):
        copy_at = original + 25 + rng.randrange(40)
        redelivered.append((original, copy_at))
    for original, copy_at in sorted(redelivered, key=lambda pair: -pair[1]):
        lines.insert(copy_at, lines[original])

    # drawn after everything above, from their own generator, so the comments stay as they were
    replies = brand_replies(records, random.Random(SEED + 1))
    lines.extend(json.dumps(reply, ensure_ascii=False) for reply in replies)

    invalid = intentionally_invalid_lines()
    lines.extend(line for _, line in invalid)

    summary = {
        "valid_unique": len(records),
        "redeliveries": len(redelivered),
        "brand_replies": len(replies),
        "intentionally_invalid": len(invalid),
        "lines": len(lines),
        "categories": Counter(rec.spec.category for rec in records),
        "themes": Counter(rec.spec.theme for rec in records if rec.spec.theme),
        "platforms": Counter(rec.platform for rec in records),
        "languages": Counter(rec.spec.lang or "-" for rec in records),
        "months": Counter(rec.created_at.strftime("%Y-%m") for rec in records),
        "invalid_reasons": [reason for reason, _ in invalid],
    }
    return lines, summary


def main() -> None:
    lines, summary = build()
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = sys.stdout
    out.write(f"wrote {summary['lines']} lines to {OUTPUT}\n")
    out.write(f"  {summary['valid_unique']} valid comments, {summary['redeliveries']} redeliveries, "
              f"{summary['brand_replies']} brand replies, "
              f"{summary['intentionally_invalid']} intentionally invalid\n")
    for name in ("categories", "themes", "platforms", "languages", "months"):
        counts: Counter[str] = summary[name]
        items = sorted(counts.items()) if name == "months" else counts.most_common()
        out.write(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in items) + "\n")


if __name__ == "__main__":
    main()
