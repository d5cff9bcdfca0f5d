"""Asks in so many words in Spanish, Portuguese, French, German and Italian.

The unit judge reads an English sentence embedding (all-MiniLM-L6-v2 learnt English) and scores
a plain request in another language at random: "Dunkelmodus wäre super", "Estaría genial poder
exportar las rutas en GPX" and "Il faudrait pouvoir télécharger les cartes" all fall below its
threshold, so a post in another language was heard only by luck. Social posts about a product come
in the languages of its users. This module recognises the common ways of asking for a change in
five of them (:func:`is_other_language_request`), as :mod:`models.explicit_asks` does for English:

* **a wish in the conditional**: "sería genial / estaría bien que / me encantaría / ojalá" (es),
  "seria ótimo / gostaria de / adoraria" (pt), "ce serait top / il faudrait / j'aimerais" (fr),
  "wäre super / wäre dringend nötig / ich wünsche mir / hätte gerne" (de), "sarebbe utile / vorrei
  / mi piacerebbe" (it); "no sería malo" and its kin; a unit that opens with "que" and a wish in
  the subjunctive ("Que la app tuviera un botón ...");
* **a request verb for a change**, as an imperative or after "can you" or a please-word: "agreguen /
  añadan / pueden agregar / por favor pongan" (es), "adicionem / poderiam colocar" (pt), "ajoutez /
  pouvez-vous ajouter / svp remettez" (fr), "bitte einbauen / nachrüsten / könnt ihr ... hinzufügen"
  (de), "aggiungete / potreste inserire" (it); a plural request imperative anywhere in the unit
  ("..., agreguen en futuras versiones la opción ...");
* **should have**: "deberían poner / debería mejorar" (es), "deveria ter" (pt), "devrait avoir"
  (fr), "es sollte ... geben" (de), "dovrebbe avere" (it);
* **a need or a gap**: "necesitamos / hace falta" (es), "precisamos de / falta um" (pt), "il manque /
  on a besoin d'" (fr), "wir brauchen / es fehlt" (de), "servirebbe / manca un" (it);
* **when it comes**: "¿para cuándo ...?", "wann kommt (endlich) ...", "gibt es bald ...", "pour quand
  ...", "quando arriva ...", "quando vai ter ...";
* **a short unit with a please-word of the language and no verb of service**: "Por favor modo
  oscuro!!", "Filter für hundefreundliche Wege bitte!", "Un mode sombre svp" (two to eight words
  besides it, no verb of being, no negation, no thanks).

None of it counts when the unit also names a fault, a fix or a service to the writer (it does not
work, it crashes, fix, an error; help, an answer, a refund, an order, a parcel, a call, "my
account"; a call or an answer as a feature, "separar las llamadas", "responder a comentarios",
is no service), or asks how to do something ("¿cómo ...?", "wie kann ich", "comment faire"): "Sería
genial que funcionara" is a bug report, "Bitte um Rückmeldung" a request for an answer. English
text never matches (no pattern holds an English word, and "please" is not one of the
please-words): the English rules and the judge read it.

Nothing is translated: the ask is heard and keeps its words. Its embedding is still MiniLM's, which
reads other languages mostly by their surface, so such an ask joins a theme of English asks only
when it shares their words ("mapas offline"), and otherwise waits alone until a product manager
places it: :func:`reads_as_other_language` tells the themes service which asks found no theme
(``ThemeConfig.other_languages_found``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_FLAGS = re.IGNORECASE | re.UNICODE

# es + pt: "sería genial", "estaría bien", "seria ótimo"; fr: "ce serait top"; de: "wäre super";
# it: "sarebbe utile". Up to two intensifiers between ("wäre echt mega praktisch").
_ES_PT_GOOD = (
    r"genial|buen[oa]|buen[ií]sim[oa]|bien|[uú]til|incre[ií]ble|ideal|perfect[oa]|padre|ch[eé]vere|bac[aá]n|"
    r"pr[aá]ctic[oa]|excelente|lind[oa]|estupend[oa]|fant[aá]stic[oa]|interesante|maravillos[oa]|top|"
    r"necesari[oa]|conveniente|[óo]tim[oa]|bom|boa|legal|bacana|maravilhos[oa]|show|massa|necess[áa]ri[oa]|"
    r"perfeit[oa]|incr[ií]vel"
)
_FR_GOOD = (
    r"top|bien|g[ée]nial|super|pratique|utile|cool|chouette|parfait|id[ée]al|sympa|int[ée]ressant|"
    r"n[ée]cessaire|formidable|excellent|bienvenu|appr[ée]ci[ée]|g[ée]nialissime|le\s+top|un\s+plus|un\s+bon\s+plus"
)
_DE_GOOD = (
    r"super|toll|klasse|sch[öo]n|cool|praktisch|n[öo]tig|hilfreich|genial|nett|gut|sinnvoll|"
    r"w[üu]nschenswert|top|spitze|gro[ßs]artig|prima|fein|n[üu]tzlich|wichtig|ideal|perfekt|geil|hammer|"
    r"fantastisch|traumhaft|erforderlich|notwendig|mega|angebracht"
)
_IT_GOOD = (
    r"bell[oa]|utile|fantastic[oa]|ottim[oa]|top|comod[oa]|carin[oa]|perfett[oa]|bellissim[oa]|"
    r"interessante|ideale|necessari[oa]|geniale|grandios[oa]|il\s+massimo|gradit[oa]|fighissim[oa]"
)
_INTENSIFIERS = (
    r"(?:(?:muy|s[uú]per|re|tan|bastante|realmente|muito|bem|t[ãa]o|vraiment|tr[èe]s|trop|tellement|echt|"
    r"wirklich|sehr|so|total|richtig|dringend|ganz|doch|auch|einfach|extrem|voll|mega|molto|davvero|proprio|"
    r"veramente|assolutamente|m[aá]s|plus|noch)\s+){0,2}"
)

_WISH = re.compile(
    r"\b(?:ser[ií]a|estar[ií]a|ser[ií]an|estar[ií]an|seriam)\s+"
    + _INTENSIFIERS
    + r"(?:" + _ES_PT_GOOD + r")\b"
    # "me gustaría que / poder / ver ...", not "me gustaría utilizar X" (a wish of the writer's own)
    r"|\b(?:me|nos)\s+(?:encantar[ií]a|gustar[ií]a)\s+(?:much[oa]\s+)?(?:que|poder|ver|tener|un|una|m[aá]s|"
    r"algun[oa])\b|\bojal[aá]\b|(?<!\bsi\s)(?<!\bsi\slo\s)\bquisiera\s+(?:que|poder|ver|tener|un|una|m[aá]s)\b"
    r"|\bgostar[ií]a(?:mos)?\s+(?:de|que|muito)\b|\badorar[ií]a\b|\btomara\s+que\b"
    r"|\b(?:ce|[çc]a|cela)\s+serait\s+" + _INTENSIFIERS + r"(?:" + _FR_GOOD + r")\b"
    r"|\bil\s+faudrait\b|\bj['’]\s*(?:aimerais|adorerais)\b|\b(?:je|on)\s+(?:voudrais|voudrait|aimerait)\b"
    r"|\bnous\s+(?:voudrions|aimerions)\b|\bsi\s+seulement\b"
    r"|\bw(?:ä|ae)ren?\s+" + _INTENSIFIERS + r"(?:" + _DE_GOOD + r")\b"
    r"|\bf(?:ä|ae)nde\s+ich\s+" + _INTENSIFIERS + r"(?:" + _DE_GOOD + r")\b"
    r"|\b(?:ich|wir)\s+w[üu]nsche?n?\s+(?:mir|uns)\b|\b(?:ich|wir)\s+h[äa]tten?\s+gerne?\b"
    r"|\bsarebbe(?:ro)?\s+" + _INTENSIFIERS + r"(?:" + _IT_GOOD + r")\b"
    r"|\bvorrei\b|\bvorremmo\b|\bmi\s+piacerebbe\b|\bci\s+piacerebbe\b|\bservirebbe(?:ro)?\b"
    r"|\bno\s+(?:ser[ií]a|estar[ií]a)\s+mal[oa]?\b|\bn[ãa]o\s+seria\s+mal\b|\bne\s+serait\s+pas\s+mal\b"
    r"|\bw(?:ä|ae)re\s+nicht\s+schlecht\b|\bnon\s+sarebbe\s+male\b"
    r"|^\W*que\s+(?:[^\W\d_]+\s+){0,3}?(?:pueda|puedan|tenga|tengan|haya|hubiera|hubieran|tuviera|tuvieran|"
    r"permita|permitan|incluya|incluyan|possa|possam|tenha|tenham)\b",
    _FLAGS,
)

_VERB_ES = (
    r"agregar|a[ñn]adir|poner|incluir|implementar|habilitar|permitir|traer\s+de\s+vuelta|volver\s+a\s+poner|"
    r"sumar|integrar|meter|incorporar"
)
_VERB_PT = (
    r"adicionar|colocar|incluir|implementar|trazer\s+de\s+volta|voltar\s+a\s+ter|liberar|integrar|p[ôo]r"
)
_VERB_FR = r"ajouter|rajouter|mettre|remettre|int[ée]grer|proposer|permettre|ramener|impl[ée]menter"
_VERB_DE = (
    r"einbauen|hinzuf[üu]gen|nachr[üu]sten|erg[äa]nzen|integrieren|einf[üu]hren|zur[üu]ckbringen|"
    r"erm[öo]glichen|anbieten|freischalten|umsetzen|implementieren|machen|zur[üu]ckholen"
)
_VERB_IT = r"aggiungere|inserire|mettere|rimettere|implementare|introdurre|riportare|integrare|abilitare"

_REQUEST = re.compile(
    # an imperative (plural or polite) opening the unit, after a please-word at most
    r"^\W*(?:(?:por\s+favor|porfa(?:vor)?|bitte|svp|stp|s['’]il\s+vous\s+pla[iî]t|per\s+favore|perfavore)\W+)?"
    r"(?:agreguen|a[ñn]adan|pongan|incluyan|implementen|traigan|habiliten|permitan|vuelvan\s+a\s+poner|"
    r"adicionem|coloquem|incluam|implementem|tragam|liberem|ajoutez|rajoutez|mettez|remettez|int[ée]grez|"
    r"proposez|ramenez|f[üu]gt|baut|r[üu]stet|aggiungete|inserite|mettete|rimettete|implementate|"
    r"introducete|riportate)\b"
    # a plural request imperative anywhere in the unit ("..., agreguen en futuras versiones la opción")
    r"|\b(?:agreguen|a[ñn]adan|incluyan|implementen|incorporen|habiliten|adicionem|incluam|implementem|"
    r"ajoutez|rajoutez|int[ée]grez|aggiungete|implementate)\b"
    r"|\bconsideren\s+(?:" + _VERB_ES + r")\b"
    # "should have / add" in each language
    r"|\bdeber[ií]an?\s+(?:de\s+)?(?:tener|poner|agregar|a[ñn]adir|incluir|modificar|mejorar|permitir|haber|"
    r"cambiar|incorporar|implementar|habilitar|volver\s+a)\b"
    r"|\bdeveri(?:a|am)\s+(?:ter|colocar|adicionar|incluir|permitir|haver|mudar|melhorar|voltar\s+a)\b"
    r"|\b(?:devrait|devriez|devraient)\s+(?:y\s+avoir|avoir|ajouter|mettre|permettre|proposer|int[ée]grer|pouvoir)\b"
    r"|\b(?:sollte|solltet|sollten)\b.{0,60}?\b(?:geben|einbauen|hinzuf[üu]gen|anbieten|erm[öo]glichen|"
    r"einf[üu]hren|m[öo]glich\s+sein)\b"
    r"|\b(?:dovrebbe|dovreste|dovrebbero)\s+(?:esserci|avere|aggiungere|mettere|permettere|introdurre)\b"
    # "can you add" in each language
    r"|\b(?:podr[ií]an|pueden|podr[ií]as|puedes)\s+(?:(?:por\s+favor|porfa)\s+)?(?:" + _VERB_ES + r")\b"
    r"|\b(?:poderiam|podem|poderia|pode)\s+(?:(?:por\s+favor)\s+)?(?:" + _VERB_PT + r")\b"
    r"|\b(?:pourriez|pouvez|pourrais|peux)[\s-]+(?:vous|tu)\s+(?:(?:svp|s['’]il\s+vous\s+pla[iî]t)\s+)?"
    r"(?:" + _VERB_FR + r")\b"
    r"|\b(?:k[öo]nnt|k[öo]nntet)\s+ihr\b.{0,80}?\b(?:" + _VERB_DE + r")\b"
    r"|\b(?:k[öo]nnten|k[öo]nnen)\s+sie\b.{0,80}?\b(?:" + _VERB_DE + r")\b"
    r"|\b(?:potreste|potete|potresti|puoi)\s+(?:(?:per\s+favore)\s+)?(?:" + _VERB_IT + r")\b"
    # a please-word with a request verb: "bitte nachrüsten", "por favor pongan", "svp remettez"
    r"|\b(?:por\s+favor|porfa(?:vor)?)\b.{0,40}?\b(?:" + _VERB_ES + r"|agreguen|a[ñn]adan|pongan|incluyan)\b"
    r"|\bbitte\b.{0,60}?\b(?:" + _VERB_DE + r")\b"
    r"|\b(?:svp|stp|s['’]il\s+vous\s+pla[iî]t)\b.{0,40}?\b(?:" + _VERB_FR + r")\b"
    r"|\b(?:per\s+favore|perfavore)\b.{0,40}?\b(?:" + _VERB_IT + r")\b",
    _FLAGS,
)

_NEED = re.compile(
    r"\b(?:necesitamos|necesitar[ií]amos|hace\s+falta|haria\s+falta|har[ií]a\s+falta)\b"
    r"|\bprecisamos\s+de\b|\bfaltan?\s+(?:um|uma|un|una)\b"
    r"|\bil\s+(?:manque|manquerait)\b|\b(?:on\s+a|nous\s+avons|on\s+aurait)\s+besoin\s+d"
    r"|\bwir\s+brauchen\b|\b(?:es\s+)?fehlt\s+(?:noch\s+|leider\s+|einfach\s+)?(?:eine?n?|die|der|das)\b"
    r"|\bes\s+br[äa]uchte\b|\bmanca(?:no)?\s+(?:un|una|uno|il|la|lo|i|le|gli)\b",
    _FLAGS,
)

_WHEN = re.compile(
    r"\bpara\s+cu[aá]ndo\b|\bcu[aá]ndo\s+(?:van\s+a|vendr[aá]|llega(?:r[aá])?|estar[aá]|saldr[aá]|habr[aá]|"
    r"tendremos|podremos)\b"
    r"|\bwann\s+(?:kommt|gibt\s+es|k[öo]mmt|wird\s+es)\b|\bgibt\s+es\s+bald\b|\bkommt\s+(?:bald|noch)\b"
    r"|\bpour\s+quand\b|\bquand\s+(?:est[\s-]ce\s+qu|arrive|sortira|aura[\s-]t[\s-]on|pourra[\s-]t[\s-]on|"
    r"aurons[\s-]nous)\b"
    r"|\bquando\s+(?:arriva|arriver[àa]|sar[àa]\s+disponibile|uscir[àa]|avremo|aggiungerete|vai\s+ter|"
    r"v[ãa]o\s+(?:colocar|adicionar|lan[çc]ar|ter))\b",
    _FLAGS,
)

_PLEASE = re.compile(
    r"\b(?:por\s+favor|porfa(?:vor)?|pfv|bitte|svp|stp|s['’]il\s+vous\s+pla[iî]t|per\s+favore|perfavore)\b",
    _FLAGS,
)
_PLEASE_MAX_WORDS = 8
_PLEASE_NOT = re.compile(
    # a negation (a refusal or a complaint: "bitte nicht"), a question ("Bitte?"), thanks ("Danke, bitte
    # weiter so"), or something to send the writer ("Bitte schicken Sie mir einen Code")
    r"\?|\b(?:no|nicht|nie|kein\w*|pas|non|n[ãa]o|jam[aá]is|nunca|danke|gracias|merci|grazie|obrigad[oa]|"
    r"weiter\s+so|schick|\bsend(?:e|en|et)?\b|zusend|env[ií]e|mand[ae]|envoy|invi[ae]|c[oó]dig|code|codice)"
    # a verb of being: the please-form is for a thing named alone ("Por favor modo oscuro")
    r"|\b(?:es|est[aá]|son|ist|sind|est|sont|è|é|s[ãa]o|era|war|[ée]tait|ser|sein|[êe]tre|essere)\b",
    _FLAGS,
)

# a fault, a fix, a service to the writer, an answer or contact, a how-to, in any of the five
_NOT_A_CHANGE = re.compile(
    # es / pt
    r"\bfuncion|\barregl|\bsolucion|\brepar|\berror|\berro\b|\bfall[oa]\b|\bfallos?\b|\bbug|\bse\s+cierra|"
    r"\bcrash|\breembols|\bdevoluci[oó]n|\bdevuelv|\bayud|\brespuesta|\bresposta|\brespond(?:a|an|e|em|eme|anme|am)\b|\bcontest(?:en|e|a|an)\b|\bcontacto|\bcontat|"
    r"\bll[aá]m(?:e|en|enme|ame|eme)\b|\bpedido|\bpaquete|\benv[ií]o\b|\bmi\s+(?:cuenta|dinero|pedido|paquete)\b|\bconsert|\bcorrig|"
    r"\barrum|\bajud|\bencomenda|\bminha\s+conta\b|\bmeu\s+dinheiro\b|\btrav[ao]|\bescrib|\b(?:un|por)\s+mensaje\b|\bmensajes?\s+(?:privados?|directos?)\b|\buma\s+mensagem\b|"
    r"\brevis[ae]|\bverifi|\bc[oó]digo|\bcodice\b|\bcode\b|¿\s*c[oó]mo\b|\bcómo\b|\bcomo\s+(?:fa[çc]o|posso)\b|"
    # fr
    r"\bfonctionn|\bmarche\s+(?:pas|plus)\b|\br[ée]par|\bcorrige|\bbeug|\bplant(?:e|é|ent|ait)\b|\berreur|\baide[rz]?\b|"
    r"\br[ée]pond(?:ez|re\s+[àa]\s+m)|\brembours|\bcolis|\bcommande|\blivraison|\bmon\s+(?:compte|argent|colis)\b|\bcontact|"
    r"\bcomment\s+(?:faire|on|je|puis)\b|\b[ée]cri[vr]|\bappel|\bv[ée]rifi|\bmp\b|\bdm\b|"
    # de
    r"\bfunktion|\bbeheb|\brepari|\bfix|\bfehler|\babsturz|\bst[üu]rzt|\babst[üu]rz|\bhilfe|\bhelft|\bhelfen|"
    r"\bantwort|\br[üu]ckruf|\br[üu]ckmeldung|\bmelde[nt]|\berstatt|\bgeld\s+zur[üu]ck|\bpaket|\blieferung|"
    r"\bbestellung|\bsendung|\bmein(?:e|en|em)?\s+(?:konto|geld|paket|bestellung|vertrag)\b|\bpr[üu]f|"
    r"\bschau|\bschreib|\bkontakt|\bruf|\b(?:mir|uns)\s+(?:eine\s+|per\s+)?nachricht|\bwie\s+(?:kann|geht|mache|funktioniert)\b|\bpn\b|"
    # it
    r"\bfunzion|\bsistemat[ei]\b|\bsistemare\b|\bripar|\bcorregg|\berrore|\baiut|\brispond|\brimbors|\bpacco|\bordine|\bspedizion|"
    r"\bil\s+mio\s+(?:account|ordine|pacco)\b|\bcontatt|\bchiam|\bun\s+messaggio\b|\bcontroll|\bcome\s+(?:si|posso)\b",
    _FLAGS,
)


# a word that every form above holds: a unit without one (nearly every English unit) is passed over
# at the cost of one scan
_ANY_FORM = re.compile(
    r"\b(?:ser[ií]a|estar[ií]a|seriam|encantar|gustar|ojal|quisiera|gostar|adorar|tomara|serait|faudrait|aimer|"
    r"adorerais|voudr|seulement|w(?:ä|ae)ren?|f(?:ä|ae)nde|w[üu]nsch|h[äa]tte|sarebbe|vorre|piacerebbe|"
    r"servirebbe|agreguen|a[ñn]adan|pongan|incluyan|implementen|traigan|habiliten|permitan|vuelvan|adicionem|"
    r"coloquem|incluam|implementem|tragam|liberem|ajoutez|rajoutez|mettez|remettez|int[ée]grez|proposez|"
    r"ramenez|f[üu]gt|baut|r[üu]stet|aggiungete|inserite|mettete|rimettete|implementate|introducete|riportate|"
    r"podr[ií]a|pued|pode|pourr|pouv|peux|k[öo]nn|potre|potete|puoi|por\s+favor|porfa|bitte|svp|stp|s['’]il|"
    r"per\s+favore|perfavore|pfv|necesit|falta|har[ií]a|precisamos|manque|besoin|brauch|fehlt|manca|"
    r"cu[aá]ndo|wann|gibt|kommt|quand|deber|deveri|devr|soll|dovre|consider|incorpor|que)",
    _FLAGS,
)


def is_other_language_request(text: str) -> bool:
    """Whether ``text`` (one unit) asks for a change in so many words in es, pt, fr, de or it (the module)."""
    flat = " ".join(text.split())
    if not _ANY_FORM.search(flat) or _NOT_A_CHANGE.search(flat):
        return False
    if _WISH.search(flat) or _REQUEST.search(flat) or _NEED.search(flat) or _WHEN.search(flat):
        return True
    please = _PLEASE.search(flat)
    if please is None or _PLEASE_NOT.search(flat):
        return False
    words = len(re.findall(r"\w+", flat)) - len(re.findall(r"\w+", please.group(0)))
    return 2 <= words <= _PLEASE_MAX_WORDS


# Function words of the five languages that are not English words (or rare in English text): "die",
# "per", "con", "sin", "pour", "mi", "son" and the like are left out. Read by
# :func:`reads_as_other_language`.


def _words(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


_OTHER_WORDS = _words(
    # es
    "que el los las una por para muy más mas pero sin del esta este estaría sería hay porfa cuando",
    "también tambien puedan poder ojalá quiero necesito lo se nos mí sí aplicación ruta rutas modo",
    # pt
    "não nao um uma com mais muito em os das dos seria gostaria você vocês está isso aplicativo",
    # fr
    "le les des du une et est avec pas dans ce cette sur je il nous vous svp serait très trop faudrait",
    "c'est j'aimerais ça appli aussi",
    # de
    "der das und ist nicht ein eine einen mit für auf den dem ich wir ihr bitte wäre wären auch noch",
    "beim zum zur fürs gibt kein keine mehr sehr endlich wenn oder im",
    # it
    "il lo gli di che non della sono è molto anche sarebbe vorrei poter favore",
)
_ENGLISH_WORDS = _words(
    "the a an and or to of in on for with is are was be it this that i you we my your our they please",
    "would could should can will add have has not but so if when just like want need more",
)
_URL = re.compile(r"\b(?:https?://|www\.)\S*|\S+\.(?:com|org|net|io|de|fr|es|it|br)\b\S*", _FLAGS)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", _FLAGS)


@lru_cache(maxsize=4_096)  # bounded: an ask is up to max_text_chars long
def reads_as_other_language(text: str) -> bool:
    """Whether ``text`` reads as Spanish, Portuguese, French, German or Italian rather than English:
    at least two distinct function words of theirs (web addresses left out) are more than twice
    the English ones ("Por favor modo oscuro", "Dunkelmodus wäre super, nachts im Zelt ..."; not
    "convert the time from ist to est"), or it asks in one of their forms and holds no more
    English function words than theirs ("Sarebbe utile poter silenziare i gruppi": "i" is both).
    An English ask with a foreign phrase ("Please add dark mode, por favor") stays English.
    """
    words = {word.casefold() for word in _WORD.findall(_URL.sub(" ", text))}
    other = len(words & _OTHER_WORDS)
    english = len(words & _ENGLISH_WORDS)
    if other >= 2 and other > 2 * english:
        return True
    return other >= english and is_other_language_request(text)
