"""Asks in so many words in Spanish, Portuguese, French, German and Italian are heard; faults,
fixes, services, questions and praise in those languages are not asks; English is left alone."""

import pytest

from models.explicit_asks import is_explicit_request
from models.other_languages import is_other_language_request, reads_as_other_language

ASKS = [
    # es
    "Sería muy útil poder ordenar las listas por fecha",
    "Estaría bien que el calendario tuviera vista semanal",
    "Me encantaría que hubiera un widget para la pantalla de inicio",
    "Ojalá pongan un modo para zurdos",
    "Agreguen soporte para tabletas por favor",
    "¿Podrían añadir un botón para deshacer?",
    "Necesitamos una versión para Mac",
    "Hace falta un buscador dentro de los chats",
    "¿Para cuándo la integración con Spotify?",
    "Porfa tema oscuro en la web",
    # pt
    "Seria ótimo ter legendas automáticas nas chamadas",
    "Gostaria que tivesse a opção de esconder o saldo",
    "Adicionem suporte a Apple Pay",
    "Poderiam colocar um filtro por preço?",
    "Precisamos de uma versão em português",
    "Quando vai ter modo escuro no iPad?",
    # fr
    "Ce serait vraiment pratique de pouvoir épingler une conversation",
    "Il faudrait un mode hors ligne pour le métro",
    "J'aimerais pouvoir choisir la couleur des étiquettes",
    "Pouvez-vous ajouter un export PDF ?",
    "Remettez l'ancien clavier svp",
    "Il manque une option pour masquer les réponses",
    "Pour quand le partage d'écran sur Android ?",
    # de
    "Ein Export als CSV wäre echt hilfreich",
    "Eine Suchfunktion für alte Nachrichten wäre toll",
    "Ich wünsche mir eine Tabletversion",
    "Könnt ihr bitte einen Kalender einbauen?",
    "Bitte die alte Symbolleiste zurückbringen",
    "Es fehlt eine Möglichkeit, Ordner zu sortieren",
    "Wann kommt endlich die Mehrsprachigkeit?",
    "Querformat auf dem iPad bitte!",
    # it
    "Sarebbe utile poter silenziare i gruppi",
    "Vorrei un tema scuro anche su desktop",
    "Potreste aggiungere la sincronizzazione con Google Drive?",
    "Aggiungete i sottotitoli per favore",
    "Manca un modo per archiviare le chat",
    "Quando arriva il supporto per Wear OS?",
]

NOT_ASKS = [
    # faults and fixes
    "Sería genial que funcionara la sincronización",  # es: "if it worked": a bug report
    "Por favor arreglen el inicio de sesión",
    "La app se cierra cada vez que abro un chat",
    "Seria ótimo se parasse de travar",
    "L'appli plante dès que je lance une vidéo, svp corrigez",
    "Ce serait bien que ça marche pas seulement en wifi",  # "that it works": a fix
    "Bitte den Fehler beim Login beheben",
    "Die App stürzt beim Öffnen ab, wäre gut wenn das jemand fixt",
    "Sarebbe bello se funzionasse il login",
    # services to the writer, contact, answers
    "Por favor ayúdenme con mi cuenta",
    "Necesitamos una respuesta ya, llevamos tres días esperando",
    "¿Cuándo llega mi pedido?",
    "Bitte um Rückmeldung",
    "Bitte schicken Sie mir einen neuen Code",
    "Wann kommt mein Paket?",
    "Merci de me rembourser svp",
    "Pourriez-vous me contacter svp",
    "Per favore rispondete al messaggio",
    "Quisiera que me llegara el código",
    # questions, praise, complaints, plain statements
    "¿Cómo se cambia el idioma de la app?",
    "Wie kann ich eine Gruppe verlassen?",
    "Comment faire pour exporter mes notes ?",
    "Me encanta esta app, la uso a diario",
    "Die Karten waren super, danke",  # past tense: praise
    "Super appli, merci !",
    "Danke, bitte weiter so",
    "Bitte?",
    "Bitte nicht schon wieder ein neues Design",
    "Si lo quisiera así usaría otra app",  # "if I wanted it": not a wish
    "Me gustaría usar la app en mi reloj viejo",  # the writer's own wish, no change named
    "Cada vez más caro",
    # English is the English rules' and the judge's to read
    "Offline maps please",
    "It would be great to have dark mode",
    "Por favor",
]


@pytest.mark.parametrize("text", ASKS)
def test_a_common_form_of_asking_in_five_languages_is_an_explicit_ask(text: str) -> None:
    assert is_other_language_request(text)
    assert is_explicit_request(text)


@pytest.mark.parametrize("text", NOT_ASKS)
def test_a_fault_a_service_a_question_or_praise_in_those_languages_is_not(text: str) -> None:
    assert not is_other_language_request(text)


def test_english_is_read_as_before() -> None:
    assert not is_explicit_request("Offline maps please")
    assert is_explicit_request("Please add offline maps")
    assert not is_other_language_request("Please add offline maps")


@pytest.mark.parametrize(
    "text",
    [
        "Por favor modo oscuro!!",
        "Dunkelmodus wäre super, nachts im Zelt blendet die App extrem",
        "Sarebbe utile poter silenziare i gruppi",
        "Un mode sombre svp",
        "La aplicación es muy lenta y los anuncios no paran",  # no ask, but Spanish all the same
    ],
)
def test_text_in_one_of_the_five_languages_reads_as_another_language(text: str) -> None:
    assert reads_as_other_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please add dark mode, por favor",
        "convert the time from ist to est",
        "Hello community, Im having problems at http://getbootstrap.com/",
        "Offline maps!!!",
        "GPX export",
        "",
    ],
)
def test_english_with_a_foreign_word_or_a_web_address_reads_as_english(text: str) -> None:
    assert not reads_as_other_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "Deberían poner un botón para repetir la última ruta",
        "Deveria ter uma opção de baixar as faturas em PDF",
        "L'appli devrait avoir un mode paysage",
        "Es sollte eine Möglichkeit geben, Benachrichtigungen zu bündeln",
        "L'app dovrebbe avere un widget",
        "No sería malo un modo para daltónicos",
        "Que la app tuviera un historial de pagos",
        "Por favor, como ya se puede en la web, agreguen también en el móvil la opción de fijar chats",
        "Consideren incorporar un modo de solo lectura",
        "Sería muy útil separar las llamadas de los chats",  # calls as a feature, not "call me"
        "Necesitamos poder responder a comentarios concretos",  # replying as a feature
    ],
)
def test_should_a_wish_in_the_subjunctive_and_a_feature_named_by_a_service_word_are_asks(text: str) -> None:
    assert is_other_language_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "Deberían de arreglar el chat",  # a fix
        "Llámenme por favor",  # a call to the writer
        "Respondan por favor, nadie contesta",
        "Que alguien me responda",
    ],
)
def test_should_fix_and_call_or_answer_me_are_not(text: str) -> None:
    assert not is_other_language_request(text)
