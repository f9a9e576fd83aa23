"""Sample data for ``bibnetz demo``: four fictitious organisations in one region of Lower Saxony.

All names, towns, numbers, identifiers and addresses are invented for demonstration (the
municipality keys and ISILs belong to no real library; mailboxes and websites use example.org).
The region "Heide" is meant to show how very different libraries share measures: a regional
association, a volunteer-led village library, a small-town library and a town library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoLibrary:
    """One demo organisation: its handle, profile fields and measures (validation input)."""

    handle: str
    profile: dict[str, Any]
    measures: tuple[dict[str, Any], ...]


def _body(situation: str, steps: str, results: str, lessons: str) -> str:
    """A measure body in Markdown with the four usual sections."""
    return (
        f"## Ausgangslage\n\n{situation}\n\n"
        f"## Umsetzung\n\n{steps}\n\n"
        f"## Ergebnisse\n\n{results}\n\n"
        f"## Was wir gelernt haben\n\n{lessons}\n"
    )


# (a) Regional association: coordinates the libraries of a (fictitious) district.
_VERBUND = DemoLibrary(
    handle="verbund-heide",
    profile={
        "name": "Bibliotheksverbund Heide e. V.",
        "kind": "association",
        "summary": (
            "Zusammenschluss von 19 öffentlichen Bibliotheken und Büchereien im Landkreis Heide "
            "(fiktiv). Wir organisieren gemeinsame Leseförderung, Fortbildungen und Lesereisen "
            "und beraten Träger und Ehrenamtliche."
        ),
        "town": "Bardenfeld",
        "federal_state": "DE-NI",
        "website": "https://verbund-heide.example.org",
        "contact_email": "info@verbund-heide.example.org",
        "operator_type": "full-time",
        "population": 141_500,
        "staff_fte": 1.5,
        "volunteers": 0,
        "media_stock": 3_200,
        "events": 21,
        "reference_year": 2025,
    },
    measures=(
        {
            "kind": "measure",
            "title": "Lesesommer Heide: ein Sommerleseclub für 19 Büchereien",
            "summary": (
                "In den Sommerferien lesen Kinder und Jugendliche in allen Verbundbüchereien "
                "neue Bücher und bewerten sie. Der Verbund stellt Medienpaket, Logbücher, "
                "Werbung und Abschlussfest, die Büchereien betreuen vor Ort."
            ),
            "body": _body(
                "Einzelne Büchereien konnten einen Sommerleseclub mit eigenem Medienpaket, "
                "Werbung und Abschlussfest nicht stemmen; besonders ehrenamtlich geführte "
                "Büchereien blieben außen vor.",
                "- zentral: Einkauf von 40 Titeln je Bücherei (Staffel nach Größe), Logbücher, "
                "Plakate und Urkunden\n"
                "- Auftakt-Schulung für alle Büchereiteams (3 Std., online)\n"
                "- gemeinsame Pressearbeit und ein Abschlussfest in der Kreisstadt\n"
                "- Auswertung per gemeinsamer Tabellenvorlage",
                "2025 nahmen 1.240 Kinder und Jugendliche teil, 11.800 Bücher wurden gelesen. "
                "Sechs ehrenamtlich geführte Büchereien waren erstmals dabei. Gesamtkosten "
                "8.600 €, davon 6.000 € von der Kulturstiftung des Landkreises.",
                "Die Medienpakete müssen bis Ende Mai in den Büchereien sein. Kleine Büchereien "
                "brauchen weniger Material, aber mehr Begleitung: Eine Telefonsprechstunde in "
                "den Ferien wurde oft genutzt.",
            ),
            "fields_of_action": ["reading-promotion", "cooperation", "public-relations"],
            "target_groups": ["children-6-12", "teens-13-17"],
            "formats": ["campaign", "event"],
            "partners": ["library", "school", "fachstelle"],
            "tags": ["Sommerleseclub", "Leseförderung", "Verbund", "Ferien"],
            "effort": "XL",
            "volunteers_involved": True,
            "cost_band": "2000-10000",
            "funding": "Kulturstiftung des Landkreises; Eigenanteile der Büchereien",
            "duration": "jährlich, Juni bis September",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "cooperation-offer",
            "title": "Lesereise im Mai 2026: Jugendbuchautor besucht Verbundbüchereien",
            "summary": (
                "Ein Jugendbuchautor ist vom 4. bis 8. Mai 2026 im Landkreis unterwegs. Der "
                "Verbund übernimmt Vertrag, Reiseplanung und Übernachtung; Büchereien buchen "
                "einzelne Lesungen für Schulklassen."
            ),
            "body": _body(
                "Für kleine Büchereien sind Anreise und Übernachtung oft teurer als das Honorar. "
                "Mit einer gemeinsamen Tour teilen sich alle die Nebenkosten.",
                "- Verbund verhandelt Honorar und Tourplan, bucht Bahn und Hotel\n"
                "- jede Bücherei bucht 1–2 Lesungen (je 60 Min., Klasse 7–9) und lädt "
                "eine Schule ein\n"
                "- Fahrdienst zwischen den Orten übernehmen die Büchereien im Wechsel\n"
                "- gemeinsame Pressemitteilung und Plakatvorlage",
                "Bei der Tour 2024 kamen 14 Lesungen mit 610 Schülerinnen und Schülern zustande; "
                "die Nebenkosten sanken auf 45 € pro Lesung.",
                "Schulen frühzeitig einbinden: Die Klassen werden im Januar für das Frühjahr "
                "geplant. Eine Ansprechperson je Bücherei für den Fahrdienst vermeidet Pannen.",
            ),
            "fields_of_action": ["events-culture", "cooperation", "reading-promotion"],
            "target_groups": ["teens-13-17", "kita-schools"],
            "formats": ["event"],
            "partners": ["library", "school"],
            "tags": ["Lesereise", "Autorenlesung", "Kosten teilen", "Schule"],
            "effort": "L",
            "volunteers_involved": False,
            "cost_band": "2000-10000",
            "funding": "Landesförderprogramm Leseförderung (beantragt)",
            "duration": "4.–8. Mai 2026",
            "status": "planned",
            "licence": "CC-BY-4.0",
            "language": "de",
            "coop_capacity": "10 Lesetermine vom 4. bis 8. Mai 2026, je Bücherei höchstens 2",
            "coop_region": "Verbundgebiet Landkreis Heide",
            "coop_deadline": "2026-01-15",
        },
        {
            "kind": "measure",
            "title": "Fortbildungsreihe „Kleine Bücherei – große Wirkung“",
            "summary": (
                "Sechs Abendmodule im Jahr für Ehrenamtliche und Teilzeitkräfte: "
                "Bestandspflege, Veranstaltungen planen, Öffentlichkeitsarbeit, "
                "Fördermittel, Datenschutz und Kommunalpolitik."
            ),
            "body": _body(
                "Viele Büchereiteams im Landkreis arbeiten ohne bibliothekarische Ausbildung. "
                "Ganztägige Fortbildungen in der Landeshauptstadt sind für sie zu weit weg.",
                "- sechs Module à 2,5 Std., abwechselnd in drei Büchereien und online\n"
                "- Referierende aus der Fachstelle, der Volkshochschule und den Büchereien selbst\n"
                "- Handout pro Modul, das alle Verbundbüchereien weiterverwenden dürfen\n"
                "- kostenfrei für Mitglieder, Anmeldung über ein Formular",
                "2025: 118 Teilnahmen aus 17 Büchereien, im Schnitt 20 pro Modul. In der "
                "Abfrage bewerteten 91 % die Module als direkt anwendbar.",
                "Abendtermine ab 18:30 Uhr passen für Ehrenamtliche am besten. Die Module von "
                "Kolleginnen aus kleinen Büchereien kamen besser an als reine Fachvorträge.",
            ),
            "fields_of_action": ["organisation", "volunteering", "strategy"],
            "target_groups": ["volunteers"],
            "formats": ["event"],
            "partners": ["library", "fachstelle", "adult-education"],
            "tags": ["Fortbildung", "Ehrenamt", "Qualifizierung"],
            "effort": "XL",
            "volunteers_involved": False,
            "cost_band": "500-2000",
            "funding": "Mitgliedsbeiträge; Landesförderprogramm für Fortbildung",
            "duration": "jährlich, 6 Abende",
            "status": "established",
            "licence": "CC-BY-SA-4.0",
            "language": "de",
        },
    ),
)

# (b) Volunteer-led village library in a community centre.
_HEIDBRUEGGE = DemoLibrary(
    handle="buecherei-heidbruegge",
    profile={
        "name": "Gemeindebücherei Heidbrügge",
        "kind": "library",
        "summary": (
            "Ehrenamtlich geführte Dorfbücherei im Dorfgemeinschaftshaus (fiktiv), zweimal pro "
            "Woche geöffnet. Zwölf Ehrenamtliche sorgen für Ausleihe, Vorlesestunden und "
            "Spieleabende."
        ),
        "town": "Heidbrügge",
        "federal_state": "DE-NI",
        "ags": "03358081",
        "website": "https://buecherei-heidbruegge.example.org",
        "contact_email": "buecherei@heidbruegge.example.org",
        "operator_type": "volunteer",
        "population": 2_480,
        "public_area_m2": 60,
        "staff_fte": 0,
        "volunteers": 12,
        "volunteer_fte": 1.1,
        "opening_hours": 7,
        "media_stock": 5_400,
        "loans": 7_900,
        "events": 16,
        "reference_year": 2025,
    },
    measures=(
        {
            "kind": "measure",
            "title": "Vorlesestunde mit der Kita im Dorfgemeinschaftshaus",
            "summary": (
                "Einmal im Monat kommt die Kita-Gruppe der Großen zur Vorlesestunde. Zwei "
                "Ehrenamtliche lesen vor, danach darf jedes Kind ein Buch für die Kita aussuchen."
            ),
            "body": _body(
                "Die Kita liegt 300 m entfernt, hatte aber keinen regelmäßigen Kontakt zur "
                "Bücherei.",
                "- fester Termin am ersten Mittwoch im Monat, 9:30–10:30 Uhr\n"
                "- zwei Vorlesende, Bilderbuch plus Fingerspiel\n"
                "- Kita-Ausweis, Ausleihe von 10 Büchern für vier Wochen",
                "11 Termine im Jahr, je 12–15 Kinder. Fünf Familien haben danach einen eigenen "
                "Ausweis gemacht. Aufwand ca. 3 Std. pro Monat, keine Kosten.",
                "Die Termine in den Kita-Jahreskalender eintragen lassen – sonst gehen sie unter.",
            ),
            "fields_of_action": ["reading-promotion", "learning-place"],
            "target_groups": ["children-0-5", "kita-schools"],
            "formats": ["event", "permanent-offer"],
            "partners": ["kita"],
            "tags": ["Vorlesen", "Kita", "Ehrenamt"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "0",
            "funding": "",
            "duration": "monatlich, 60 Minuten",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "solution",
            "title": "Frischer Bestand ohne Etat: Blockausleihe über die Fachstelle",
            "summary": (
                "Jedes Quartal tauschen wir 200 Medien mit der Ergänzungsbücherei der "
                "Fachstelle. So finden Stammleserinnen immer Neues, obwohl unser Etat nur 900 € "
                "im Jahr beträgt."
            ),
            "body": _body(
                "Mit 900 € Medienetat konnten wir kaum 50 neue Bücher im Jahr kaufen. "
                "Stammleserinnen hatten das Regal bald ausgelesen.",
                "- Wunschliste der Lesenden sammeln (Zettelkasten an der Theke)\n"
                "- Austausch von 200 Medien pro Quartal per Kurier der Fachstelle\n"
                "- Kennzeichnung mit farbigem Punkt, eigenes Regal „Neu auf Zeit“",
                "Die Ausleihen stiegen im ersten Jahr um 18 %. Aufwand: ca. 4 Std. pro "
                "Austausch für zwei Ehrenamtliche.",
                "Die Wunschliste ist entscheidend: Die Fachstelle packt gezielt, statt nach "
                "Zufall.",
            ),
            "fields_of_action": ["collection", "cooperation"],
            "target_groups": ["adults", "seniors-60", "children-6-12"],
            "formats": ["organisation"],
            "partners": ["fachstelle"],
            "tags": ["Bestand", "Blockausleihe", "Fachstelle"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "0",
            "funding": "",
            "duration": "vierteljährlich",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "event-concept",
            "title": "Spieleabend für Jung und Alt",
            "summary": (
                "Am letzten Freitag im Monat stellen wir Tische zusammen und spielen mit allen, "
                "die kommen: Kinder, Eltern, Großeltern. Der Heimatverein bringt Getränke mit."
            ),
            "body": _body(
                "Im Dorf gibt es keine Gaststätte mehr. Es fehlte ein Ort, an dem sich "
                "Generationen ohne Anlass treffen.",
                "- 40 Brett- und Kartenspiele aus Spenden und dem Bestand\n"
                "- 18–21 Uhr, zwei Ehrenamtliche erklären Spiele\n"
                "- Getränke gegen Spende durch den Heimatverein",
                "Im Schnitt 19 Gäste zwischen 6 und 82 Jahren. Die Spiele werden seitdem "
                "auch ausgeliehen (140 Ausleihen im Jahr). Kosten: 60 € für neue Spiele.",
                "Einfache Spiele zuerst, Strategiespiele ab 20 Uhr. Ein fester Termin ist "
                "wichtiger als ein großes Programm.",
            ),
            "fields_of_action": ["third-place", "events-culture", "collection"],
            "target_groups": ["children-6-12", "adults", "seniors-60"],
            "formats": ["event"],
            "partners": ["club"],
            "tags": ["Spieleabend", "Generationen", "Brettspiele"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "lt-100",
            "funding": "Spenden",
            "duration": "monatlich, 3 Stunden",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "experience-report",
            "title": "Neue Ehrenamtliche über die Dorfzeitung gewinnen – und halten",
            "summary": (
                "Mit einer Porträtreihe in der Dorfzeitung haben wir vier neue Ehrenamtliche "
                "gefunden. Geblieben sind sie wegen kleiner, klar umrissener Aufgaben."
            ),
            "body": _body(
                "Das Team war auf sechs Personen geschrumpft, die meisten über 70. Aufrufe "
                "„Ehrenamtliche gesucht“ blieben ohne Echo.",
                "- Porträtreihe „Wer steht hinter der Theke?“ in fünf Ausgaben\n"
                "- konkrete Angebote statt allgemeiner Aufrufe: „Zwei Stunden im Monat "
                "Bücher einbinden“\n"
                "- Einarbeitung im Tandem, Dienstplan für ein Quartal",
                "Sieben Interessierte, vier sind nach einem Jahr noch dabei, darunter zwei "
                "Mütter aus der Kita-Elternschaft.",
                "Menschen melden sich für Aufgaben, nicht für ein Amt. Und: das neue Team braucht "
                "ein Treffen im Jahr ohne Arbeit.",
            ),
            "fields_of_action": ["volunteering", "public-relations"],
            "target_groups": ["volunteers", "adults"],
            "formats": ["campaign"],
            "partners": ["club", "church"],
            "tags": ["Ehrenamt", "Gewinnung", "Dorfzeitung"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "0",
            "funding": "",
            "duration": "5 Monate",
            "status": "done",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "cooperation-request",
            "title": "Bilderbuchkino-Set für unsere Vorlesestunde gesucht",
            "summary": (
                "Für die Kita-Vorlesestunde hätten wir gern ein Bilderbuchkino. Wer leiht uns "
                "Beamer und Bildkarten für einige Wochen oder schafft ein Set gemeinsam mit uns an?"
            ),
            "body": _body(
                "Die Kinder lieben große Bilder, unser Raum hat eine weiße Wand, aber kein Gerät.",
                "- gesucht: Ausleihe für 4–6 Wochen oder gemeinsame Anschaffung\n"
                "- wir holen ab und bringen zurück, Haftung übernimmt der Büchereiverein",
                "Noch keine.",
                "Die Fachstelle hat uns geraten, zuerst im Verbund zu fragen.",
            ),
            "fields_of_action": ["reading-promotion", "cooperation"],
            "target_groups": ["children-0-5", "kita-schools"],
            "formats": ["space-equipment"],
            "partners": ["library", "kita"],
            "tags": ["Bilderbuchkino", "Ausleihe unter Bibliotheken"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "lt-100",
            "funding": "Büchereiverein",
            "duration": "4–6 Wochen",
            "status": "planned",
            "licence": "CC-BY-4.0",
            "language": "de",
            "coop_capacity": "Abholung und Rückgabe durch uns; Anteil an einem Kauf bis 80 €",
            "coop_region": "Umkreis von 25 km um Heidbrügge",
            "coop_deadline": "2026-02-15",
        },
    ),
)

# (c) Small-town library with one and a half posts.
_AHRENSLOH = DemoLibrary(
    handle="stadtbuecherei-ahrensloh",
    profile={
        "name": "Stadtbücherei Ahrensloh",
        "kind": "library",
        "summary": (
            "Kleine Stadtbücherei im Erdgeschoss des alten Amtsgerichts (fiktiv). Zwei "
            "Teilzeitkräfte und ein Förderverein machen Leseförderung mit Schulen und Kitas, "
            "Bilderbuchkino und einen Bücherflohmarkt zum Stadtfest."
        ),
        "town": "Ahrensloh",
        "federal_state": "DE-NI",
        "ags": "03358082",
        "isil": "DE-Demo82",
        "website": "https://stadtbuecherei-ahrensloh.example.org",
        "contact_email": "stadtbuecherei@ahrensloh.example.org",
        "operator_type": "full-time",
        "population": 9_150,
        "public_area_m2": 280,
        "staff_fte": 1.5,
        "volunteers": 5,
        "volunteer_fte": 0.3,
        "opening_hours": 20,
        "media_stock": 19_600,
        "loans": 41_300,
        "events": 68,
        "reference_year": 2025,
    },
    measures=(
        {
            "kind": "measure",
            "title": "Lesepatinnen und Lesepaten an der Grundschule",
            "summary": (
                "Acht Lesepatinnen und Lesepaten lesen einmal pro Woche mit Kindern der zweiten "
                "Klassen, die beim Lesen Unterstützung brauchen. Die Bücherei schult und "
                "versorgt sie mit Büchern."
            ),
            "body": _body(
                "Die Grundschule meldete, dass rund ein Viertel der Zweitklässler nicht "
                "flüssig liest. Lehrkräfte haben dafür keine Einzelzeit.",
                "- Gewinnung über Förderverein und Seniorenbeirat\n"
                "- zwei Schulungen à 2 Std. zu Lesemotivation und Buchauswahl\n"
                "- Lesekiste mit 60 Erstlesebüchern in der Schule, Tausch alle 8 Wochen\n"
                "- Treffen der Lesepaten zweimal im Jahr in der Bücherei",
                "24 Kinder pro Schuljahr, je 30 Min. wöchentlich. Die Lehrkräfte berichten von "
                "mehr Lesefreude; 15 der Kinder haben einen Büchereiausweis.",
                "Feste Paare aus Lesepate und Kind über ein Halbjahr funktionieren besser als "
                "wechselnde.",
            ),
            "fields_of_action": ["reading-promotion", "volunteering", "learning-place"],
            "target_groups": ["children-6-12", "kita-schools", "volunteers"],
            "formats": ["permanent-offer"],
            "partners": ["school", "club"],
            "tags": ["Lesepaten", "Grundschule", "Lesekompetenz"],
            "effort": "M",
            "volunteers_involved": True,
            "cost_band": "lt-100",
            "funding": "Förderverein",
            "duration": "seit 2023, je Schuljahr",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "event-concept",
            "title": "Bücherflohmarkt am Stadtfest-Wochenende",
            "summary": (
                "Aussortierte Bücher und Spenden verkaufen wir mit dem Förderverein an einem "
                "Stand auf dem Stadtfest. Der Erlös fließt in neue Jugendbücher."
            ),
            "body": _body(
                "Das Magazin war voll mit ausgesonderten Medien, der Jugendbestand veraltet.",
                "- Sortierung und Preisauszeichnung an zwei Abenden (ca. 10 Std.)\n"
                "- Stand mit Pavillon der Stadt, Einheitspreise 0,50 € und 1 €\n"
                "- Büchereiausweise direkt am Stand",
                "1.480 verkaufte Medien, Erlös 1.120 €, 17 Neuanmeldungen am Stand.",
                "Kisten nach Themen beschriften, nicht nach Preis. Restbestand vorher mit einem "
                "Sozialkaufhaus absprechen.",
            ),
            "fields_of_action": ["funding", "public-relations", "collection"],
            "target_groups": ["adults", "non-users"],
            "formats": ["event"],
            "partners": ["club", "municipality"],
            "tags": ["Flohmarkt", "Stadtfest", "Förderverein"],
            "effort": "M",
            "volunteers_involved": True,
            "cost_band": "0",
            "funding": "",
            "duration": "2 Tage",
            "status": "done",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "solution",
            "title": "Abholfach im Rathausfoyer für vorbestellte Medien",
            "summary": (
                "Vorbestellte Medien liegen in abschließbaren Fächern im Rathausfoyer und können "
                "zu den Rathauszeiten abgeholt werden – 20 zusätzliche Stunden pro Woche."
            ),
            "body": _body(
                "Bei 20 Öffnungsstunden verfielen viele Vorbestellungen, weil Berufstätige nicht "
                "rechtzeitig kamen.",
                "- 12 Fächer mit Zahlenschloss, Code per E-Mail an die Lesenden\n"
                "- Bestückung morgens durch uns, Verbuchung vorab\n"
                "- Absprache mit dem Bürgerbüro zu Zuständigkeiten",
                "Verfallene Vorbestellungen sanken von 23 % auf 6 %. Kosten: 430 € für den "
                "gebrauchten Schrank und Schlösser.",
                "Codes wöchentlich wechseln. Ein Aushang des Bürgerbüros hilft bei Fragen.",
            ),
            "fields_of_action": ["organisation"],
            "target_groups": ["adults", "young-adults"],
            "formats": ["space-equipment"],
            "partners": ["municipality"],
            "tags": ["Vorbestellung", "Abholfach", "Service"],
            "effort": "M",
            "volunteers_involved": False,
            "cost_band": "100-500",
            "funding": "eigener Etat",
            "duration": "Einrichtung 3 Wochen, seit 2024 in Betrieb",
            "status": "established",
            "licence": "CC0-1.0",
            "language": "de",
        },
        {
            "kind": "idea",
            "title": "Lesecafé mit dem Seniorenbeirat",
            "summary": (
                "Donnerstags nachmittags soll die Leseecke zum Lesecafé werden: Zeitungen, "
                "Kaffee vom Seniorenbeirat und einmal im Monat ein Gast aus der Stadt."
            ),
            "body": _body(
                "Ältere Menschen kommen vor allem wegen der Tageszeitung, bleiben aber nicht "
                "lange.",
                "Geplant: bequemere Sessel aus einer Haushaltsauflösung, Kaffee gegen Spende, "
                "einmal im Monat ein Gesprächsgast (z. B. Ortsheimatpflege, Bürgermeisterin).",
                "Noch keine. Start geplant im Herbst 2026.",
                "Der Seniorenbeirat will das Angebot selbst tragen; wir stellen nur den Raum.",
            ),
            "fields_of_action": ["third-place", "events-culture"],
            "target_groups": ["seniors-60"],
            "formats": ["permanent-offer", "space-equipment"],
            "partners": ["club", "municipality"],
            "tags": ["Lesecafé", "Senioren", "Treffpunkt"],
            "effort": "S",
            "volunteers_involved": True,
            "cost_band": "100-500",
            "funding": "Spenden",
            "duration": "wöchentlich, 2 Stunden",
            "status": "planned",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "cooperation-offer",
            "title": "Wir verleihen unser Bilderbuchkino-Set und ein Kamishibai",
            "summary": (
                "Beamer, Leinwand, 25 Bilderbuchkino-Sets und ein Kamishibai-Erzähltheater "
                "stehen zwischen unseren eigenen Terminen frei. Büchereien im Verbund können sie "
                "für zwei Wochen ausleihen."
            ),
            "body": _body(
                "Das Set nutzen wir selbst nur an etwa zehn Vormittagen im Jahr.",
                "- Ausleihe für 2 Wochen, Abholung bei uns\n"
                "- kurze Einweisung vor Ort (15 Min.)\n"
                "- Reservierung per E-Mail, Liste der Sets auf unserer Website",
                "2025 haben drei Büchereien das Set ausgeliehen, zusammen 14 Veranstaltungen.",
                "Ersatzlampe und Verlängerungskabel gehören in die Tasche.",
            ),
            "fields_of_action": ["reading-promotion", "cooperation"],
            "target_groups": ["children-0-5", "kita-schools"],
            "formats": ["space-equipment"],
            "partners": ["library"],
            "tags": ["Bilderbuchkino", "Kamishibai", "Ausleihe unter Bibliotheken"],
            "effort": "S",
            "volunteers_involved": False,
            "cost_band": "0",
            "funding": "",
            "duration": "je 2 Wochen",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
            "coop_capacity": "ca. 10 Ausleihzeiträume à 2 Wochen im Jahr 2026",
            "coop_region": "Verbundgebiet Landkreis Heide",
            "coop_deadline": "2026-06-30",
        },
        {
            "kind": "experience-report",
            "title": "Toolkit-Workshop mit Team, Förderverein und Verwaltung",
            "summary": (
                "Zwei Stunden Reflektieren und Reagieren mit dem Toolkit haben unsere Prioritäten "
                "verschoben: weniger Einzelveranstaltungen, mehr feste Kooperationen mit Schulen."
            ),
            "body": _body(
                "Wir machten viel, aber ohne Plan; die Verwaltung kannte unsere Ziele nicht.",
                "- Workshop im März mit 2 Mitarbeiterinnen, 3 Ehrenamtlichen, dem Förderverein "
                "und der Fachbereichsleitung\n"
                "- Moderation durch die Büchereileitung, Vorbereitung 4 Std.\n"
                "- Ergebnisse als Fotoprotokoll an alle",
                "Drei Prioritäten für 2026, zwei Veranstaltungsreihen gestrichen, eine "
                "Kooperationsvereinbarung mit der Oberschule in Arbeit.",
                "Die Verwaltung dabeizuhaben war der größte Gewinn: Sie versteht jetzt, warum "
                "wir Zeit für Schulkooperationen brauchen.",
            ),
            "fields_of_action": ["strategy", "advocacy"],
            "target_groups": ["administration-politics", "volunteers"],
            "formats": ["organisation"],
            "partners": ["municipality", "club"],
            "tags": ["Toolkit", "Strategie", "Workshop"],
            "effort": "M",
            "volunteers_involved": True,
            "cost_band": "lt-100",
            "funding": "",
            "duration": "ein Workshop, 2 Stunden",
            "status": "done",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
    ),
)

# (d) Town library with a full team.
_BARDENFELD = DemoLibrary(
    handle="stadtbibliothek-bardenfeld",
    profile={
        "name": "Stadtbibliothek Bardenfeld",
        "kind": "library",
        "summary": (
            "Stadtbibliothek der Kreisstadt (fiktiv) auf zwei Etagen mit Open-Library-Zugang, "
            "Makerspace und Bibliothek der Dinge. Partnerin für Schulen, Volkshochschule und den "
            "Bibliotheksverbund Heide."
        ),
        "town": "Bardenfeld",
        "federal_state": "DE-NI",
        "ags": "03358083",
        "isil": "DE-Demo83",
        "website": "https://stadtbibliothek-bardenfeld.example.org",
        "contact_email": "stadtbibliothek@bardenfeld.example.org",
        "operator_type": "full-time",
        "population": 28_300,
        "public_area_m2": 1_100,
        "staff_fte": 7.5,
        "volunteers": 15,
        "volunteer_fte": 0.8,
        "opening_hours": 38,
        "media_stock": 58_400,
        "loans": 163_000,
        "events": 245,
        "reference_year": 2025,
    },
    measures=(
        {
            "kind": "measure",
            "title": "Open Library: 74 statt 38 Stunden Zugang pro Woche",
            "summary": (
                "Mit Bibliotheksausweis kommen Erwachsene seit 2024 auch ohne Personal in die "
                "Bibliothek, morgens ab 8 Uhr, abends bis 21 Uhr und sonntags."
            ),
            "body": _body(
                "Die Stadt konnte keine zusätzlichen Stellen für längere Öffnungszeiten "
                "finanzieren, der Bedarf von Pendelnden und Studierenden war groß.",
                "- Zugangskontrolle mit Ausweis, Videoüberwachung des Eingangs, Notrufknopf\n"
                "- Selbstverbuchung und Rückgabeautomat (RFID war vorhanden)\n"
                "- Hausordnung und Datenschutzkonzept mit dem Datenschutzbeauftragten der Stadt\n"
                "- Freischaltung nach einer Einweisung (10 Min.), ab 18 Jahren",
                "1.350 freigeschaltete Ausweise, 22 % aller Besuche in den offenen Stunden. "
                "Investition 68.000 €, zu 75 % vom Land gefördert. Zwei Vorfälle "
                "(Müll, ein nicht verbuchtes Buch) in 18 Monaten.",
                "Die Einweisung persönlich zu machen schafft Vertrauen auf beiden Seiten. Die "
                "Reinigungszeiten mussten verlegt werden – früh mit dem Gebäudemanagement reden.",
            ),
            "fields_of_action": ["organisation", "third-place"],
            "target_groups": ["adults", "young-adults"],
            "formats": ["space-equipment", "organisation"],
            "partners": ["municipality"],
            "tags": ["Open Library", "Öffnungszeiten", "RFID", "Selbstverbuchung"],
            "effort": "XL",
            "volunteers_involved": False,
            "cost_band": "gt-10000",
            "funding": "Landesförderprogramm; 25 % Eigenanteil der Stadt",
            "duration": "Planung 10 Monate, seit April 2024 in Betrieb",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "event-concept",
            "title": "Makerspace-Samstag: 3D-Druck, Plotter und Löten für Einsteiger",
            "summary": (
                "Einmal im Monat öffnet der Makerspace für alle ab 10 Jahren. Ehrenamtliche "
                "Technik-Paten und ein örtlicher Elektrobetrieb betreuen die Stationen."
            ),
            "body": _body(
                "Der Makerspace wurde vor allem von Schulklassen genutzt; Familien und "
                "Jugendliche in der Freizeit kannten ihn kaum.",
                "- drei Stationen (3D-Druck, Schneideplotter, Lötstation) à 45 Min.\n"
                "- vier Technik-Paten, ein Azubi des Elektrobetriebs\n"
                "- Materialkosten werden über eine kleine Teilnahmegebühr (3 €) gedeckt",
                "10 Termine, 214 Teilnehmende, 40 % davon zum ersten Mal in der Bibliothek. "
                "Materialkosten 780 €.",
                "Kleine Projekte, die man mitnehmen kann (Schlüsselanhänger, Aufkleber), "
                "begeistern mehr als offene Werkstatt.",
            ),
            "fields_of_action": ["media-education", "events-culture"],
            "target_groups": ["children-6-12", "teens-13-17", "adults"],
            "formats": ["event"],
            "partners": ["business", "school"],
            "tags": ["Makerspace", "3D-Druck", "MINT"],
            "effort": "L",
            "volunteers_involved": True,
            "cost_band": "500-2000",
            "funding": "Teilnahmegebühren; Sponsoring eines Elektrobetriebs",
            "duration": "monatlich, 4 Stunden",
            "status": "established",
            "licence": "CC-BY-SA-4.0",
            "language": "de",
        },
        {
            "kind": "measure",
            "title": "Sprachcafé Deutsch jeden Dienstag",
            "summary": (
                "Menschen, die Deutsch lernen, üben in kleinen Gesprächsrunden mit "
                "Ehrenamtlichen. Die Volkshochschule schickt ihre Kursteilnehmenden."
            ),
            "body": _body(
                "Die Integrationskurse der Volkshochschule bieten wenig Gelegenheit zum "
                "freien Sprechen.",
                "- Dienstag 16–18 Uhr, Tische mit je einer ehrenamtlichen Gesprächsleitung\n"
                "- Themenkarten (Arzt, Einkauf, Arbeit), Bestand an DaZ-Medien nebenan\n"
                "- Koordination durch eine Bibliothekarin (1 Std. pro Woche)",
                "Im Schnitt 24 Teilnehmende aus 11 Ländern; 160 neue Ausweise seit Start.",
                "Ohne Anmeldung und ohne Niveaustufen – das senkt die Schwelle.",
            ),
            "fields_of_action": ["democracy", "learning-place"],
            "target_groups": ["migration", "adults"],
            "formats": ["permanent-offer"],
            "partners": ["adult-education", "club"],
            "tags": ["Sprachcafé", "DaZ", "Integration"],
            "effort": "M",
            "volunteers_involved": True,
            "cost_band": "lt-100",
            "funding": "eigener Etat",
            "duration": "wöchentlich, seit 2022",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "solution",
            "title": "Medienkisten für Schulen per Online-Formular bestellen",
            "summary": (
                "Lehrkräfte bestellen Themenkisten über ein kurzes Formular statt per Telefon. "
                "Wir packen gesammelt einmal pro Woche, der Schulbote holt ab."
            ),
            "body": _body(
                "Bestellungen kamen per Telefon, Zettel und E-Mail; Kisten gingen verloren.",
                "- Formular mit Thema, Klassenstufe, Zeitraum und Schule\n"
                "- Packtag mittwochs, Ausleihe auf den Schulausweis\n"
                "- Abholung durch den Schulboten der Stadt",
                "310 Kisten im Schuljahr für 9 Schulen, Bearbeitungszeit pro Kiste von 40 auf "
                "15 Minuten gesunken.",
                "Der feste Packtag ist wichtiger als das Formular selbst.",
            ),
            "fields_of_action": ["learning-place", "organisation"],
            "target_groups": ["kita-schools"],
            "formats": ["organisation"],
            "partners": ["school", "municipality"],
            "tags": ["Medienkisten", "Schule", "Formular"],
            "effort": "M",
            "volunteers_involved": False,
            "cost_band": "0",
            "funding": "",
            "duration": "seit Schuljahr 2024/25",
            "status": "established",
            "licence": "CC0-1.0",
            "language": "de",
        },
        {
            "kind": "experience-report",
            "title": "Zwei Jahre Bibliothek der Dinge: 64 Gegenstände, 1.900 Ausleihen",
            "summary": (
                "Von der Nähmaschine bis zur Wärmebildkamera: Was in zwei Jahren gut lief, was "
                "kaputtging und welche Dinge niemand ausleihen wollte."
            ),
            "body": _body(
                "Die Stadt wollte Klimaschutz sichtbar machen, wir wollten Menschen erreichen, "
                "die keine Bücher leihen.",
                "- 64 Gegenstände, Auswahl nach einer Umfrage (420 Antworten)\n"
                "- Prüfung nach Rückgabe durch zwei Ehrenamtliche des Repair-Cafés\n"
                "- Elektroprüfung jährlich durch einen Elektrobetrieb",
                "1.900 Ausleihen in zwei Jahren; Spitzenreiter Wärmebildkamera, Beamer und "
                "Teppichreiniger. Ladenhüter: Brotbackautomat und Fondue-Set. Investition 7.800 €.",
                "Verbrauchsteile (Akkus, Bürsten) von Anfang an einplanen. Ladenhüter nach einem "
                "Jahr aussortieren.",
            ),
            "fields_of_action": ["collection", "sustainability"],
            "target_groups": ["adults", "non-users"],
            "formats": ["permanent-offer"],
            "partners": ["club", "business"],
            "tags": ["Bibliothek der Dinge", "Klimaschutz", "Repair-Café"],
            "effort": "L",
            "volunteers_involved": True,
            "cost_band": "2000-10000",
            "funding": "Klimaschutzförderung des Landkreises",
            "duration": "2 Jahre",
            "status": "established",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
        {
            "kind": "cooperation-offer",
            "title": "Inhouse-Schulung „Schwierige Situationen an der Theke“ – Plätze frei",
            "summary": (
                "Unsere Teamschulung zu Deeskalation und Hausrecht hat noch sechs Plätze. "
                "Beschäftigte und Ehrenamtliche anderer Büchereien sind willkommen."
            ),
            "body": _body(
                "Mit längeren Öffnungszeiten und mehr Besuchen nahmen Konflikte an der Theke zu.",
                "- eintägige Schulung (6 Std.) mit einer Trainerin der Polizeiprävention\n"
                "- Rollenspiele in kleinen Gruppen, Handout zum Hausrecht\n"
                "- Kosten werden anteilig durch die Zahl der Teilnehmenden geteilt",
                "Bisher intern: alle 9 Beschäftigten geschult.",
                "Gemischte Gruppen aus großen und kleinen Büchereien bringen mehr Beispiele ein.",
            ),
            "fields_of_action": ["organisation", "cooperation"],
            "target_groups": ["volunteers"],
            "formats": ["event"],
            "partners": ["library"],
            "tags": ["Fortbildung", "Deeskalation", "Hausrecht"],
            "effort": "M",
            "volunteers_involved": False,
            "cost_band": "500-2000",
            "funding": "Fortbildungsetat der Stadt",
            "duration": "ein Tag, 6 Stunden",
            "status": "planned",
            "licence": "CC-BY-4.0",
            "language": "de",
            "coop_capacity": "6 Plätze, Eigenanteil ca. 45 € pro Person",
            "coop_region": "Verbundgebiet Landkreis Heide",
            "coop_deadline": "2026-02-20",
        },
        {
            "kind": "idea",
            "title": "Demokratie-Werkstatt für Jugendliche vor der Landtagswahl 2027",
            "summary": (
                "Erstwählende sollen in der Bibliothek Wahlprogramme vergleichen, Fragen an "
                "Kandidierende entwickeln und ein eigenes Wahlforum moderieren."
            ),
            "body": _body(
                "Bei der letzten Wahl lag die Beteiligung der Jüngsten im Landkreis deutlich "
                "unter dem Durchschnitt.",
                "Geplant: drei Workshop-Nachmittage mit Oberschule und Volkshochschule, "
                "danach ein von Jugendlichen moderiertes Forum. Strikte Neutralität, "
                "Einladung aller Parteien nach festen Regeln.",
                "Noch keine. Ziel: 60 Teilnehmende, Forum mit 150 Gästen.",
                "Erste Gespräche zeigen: Die Schule braucht die Termine bis zu den Sommerferien "
                "2027.",
            ),
            "fields_of_action": ["democracy", "events-culture"],
            "target_groups": ["teens-13-17", "young-adults"],
            "formats": ["event"],
            "partners": ["school", "adult-education"],
            "tags": ["Demokratie", "Erstwählende", "Landtagswahl"],
            "effort": "L",
            "volunteers_involved": False,
            "cost_band": "500-2000",
            "funding": "Landeszentrale für politische Bildung (Anfrage geplant)",
            "duration": "Frühjahr bis Herbst 2027",
            "status": "planned",
            "licence": "CC-BY-4.0",
            "language": "de",
        },
    ),
)

DEMO_LIBRARIES: tuple[DemoLibrary, ...] = (_VERBUND, _HEIDBRUEGGE, _AHRENSLOH, _BARDENFELD)

DEMO_TOOLKIT: dict[str, dict[str, Any]] = {
    "buecherei-heidbruegge": {
        "workshop_date": "2025-04-09",
        "visibility": "network",
        "ratings": {
            "reading-promotion": {
                "rating": 4,
                "note": "Vorlesestunde mit der Kita läuft gut, Schulkinder erreichen wir kaum.",
            },
            "volunteering": {
                "rating": 3,
                "note": "Team wieder gewachsen, aber Dienste hängen an wenigen Personen.",
            },
            "third-place": {
                "rating": 4,
                "note": "Spieleabend ist zum Dorftreffpunkt geworden.",
            },
            "media-education": {
                "rating": 1,
                "note": "Kein WLAN, keine Geräte; Onleihe kennt kaum jemand.",
            },
            "collection": {
                "rating": 3,
                "note": "Blockausleihe hilft, eigener Etat sehr klein.",
            },
        },
        "priority_fields": ["media-education", "volunteering"],
        "priority_target_groups": ["children-6-12", "seniors-60"],
        "planned_measures": [
            "WLAN im Dorfgemeinschaftshaus bei der Gemeinde beantragen",
            "Onleihe-Nachmittag mit der Fachstelle",
            "Bilderbuchkino im Verbund ausleihen",
        ],
    },
    "stadtbuecherei-ahrensloh": {
        "workshop_date": "2025-03-18",
        "visibility": "public",
        "ratings": {
            "reading-promotion": {
                "rating": 4,
                "note": "Lesepaten und Bilderbuchkino etabliert.",
            },
            "learning-place": {
                "rating": 2,
                "note": "Grundschule gut eingebunden, Oberschule gar nicht.",
            },
            "public-relations": {
                "rating": 3,
                "note": "Zeitung berichtet regelmäßig, online sind wir kaum sichtbar.",
            },
            "advocacy": {
                "rating": 2,
                "note": "Rat und Verwaltung kennen unsere Ziele nicht.",
            },
            "events-culture": {
                "rating": 4,
                "note": "Viele Einzelveranstaltungen, zu viel Aufwand für 1,5 Stellen.",
            },
            "strategy": {
                "rating": 2,
                "note": "Bisher kein schriftliches Konzept.",
            },
        },
        "priority_fields": ["learning-place", "advocacy", "strategy"],
        "priority_target_groups": ["teens-13-17", "kita-schools", "administration-politics"],
        "planned_measures": [
            "Kooperationsvereinbarung mit der Oberschule",
            "jährlicher Bericht im Kulturausschuss",
            "Veranstaltungsreihen von 8 auf 6 reduzieren",
            "Bibliothekskonzept 2026–2030 schreiben",
        ],
    },
    "stadtbibliothek-bardenfeld": {
        "workshop_date": "2025-09-24",
        "visibility": "public",
        "ratings": {
            "third-place": {
                "rating": 5,
                "note": "Open Library und Lernplätze werden sehr gut angenommen.",
            },
            "media-education": {
                "rating": 4,
                "note": "Makerspace etabliert; Angebote für Ältere fehlen.",
            },
            "democracy": {
                "rating": 3,
                "note": "Sprachcafé läuft, politische Bildung bisher nur punktuell.",
            },
            "sustainability": {
                "rating": 4,
                "note": "Bibliothek der Dinge erfolgreich, Gebäude energetisch schwach.",
            },
            "cooperation": {
                "rating": 3,
                "note": "Verbund stark, Kontakte zu Vereinen ausbaufähig.",
            },
        },
        "priority_fields": ["democracy", "media-education", "cooperation"],
        "priority_target_groups": ["young-adults", "seniors-60", "migration"],
        "planned_measures": [
            "Demokratie-Werkstatt vor der Landtagswahl 2027",
            "Digitalsprechstunde für Ältere mit Ehrenamtlichen",
            "Schulungen für kleinere Verbundbüchereien öffnen",
        ],
    },
}


def demo_library(handle: str) -> DemoLibrary:
    """The demo organisation with this handle; KeyError if there is none."""
    for library in DEMO_LIBRARIES:
        if library.handle == handle:
            return library
    raise KeyError(handle)
