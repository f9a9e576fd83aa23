"""A German test corpus: hand-written measures combined with libraries of varied sizes.

``BLOCKS`` are ~60 measures as small public libraries describe them; ``LIBRARIES`` are
libraries from villages to middle towns in several federal states. ``corpus()`` combines
them deterministically into several hundred measures (the tests) and ``synthetic_*`` scale
the same blocks to any size (the benchmark).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Block:
    """One hand-written measure (text and classification)."""

    title: str
    summary: str
    body: str
    kind: str
    fields: tuple[str, ...]
    groups: tuple[str, ...]
    formats: tuple[str, ...] = ()
    cost: str | None = None
    effort: str | None = None
    status: str = "done"


@dataclass(frozen=True)
class LibrarySpec:
    """A library of the corpus with its profile numbers."""

    handle: str
    name: str
    state: str
    population: int | None
    area: float | None
    fte: float | None
    kind: str = "library"
    domain: str = ""  # empty: local to the test node; else a remote mirror
    extra: dict[str, object] = field(default_factory=dict)


B = Block
BLOCKS: tuple[Block, ...] = (
    B("Lesesommer für Grundschulkinder", "Sechs Wochen Ferienlesen mit Stempelkarte und Abschlussfest.",
      "Ausgangslage: In den Sommerferien kamen kaum Kinder. Umsetzung: Jedes Kind liest drei Bücher "
      "und erzählt davon am Tresen. Ergebnis: Die Ausleihen stiegen im Juli deutlich.",
      "measure", ("reading-promotion",), ("children-6-12",), ("campaign",), "100-500", "M", "established"),
    B("Lesesommer XXL mit der Nachbarbücherei", "Gemeinsamer Lesesommer zweier Gemeinden mit Bus-Tausch.",
      "Wir haben den Lesesommer mit der Bücherei im Nachbarort geteilt: ein Plakat, eine Abschlussparty, "
      "geteilte Preise. Die Kooperation spart uns Zeit beim Organisieren.",
      "measure", ("reading-promotion", "cooperation"), ("children-6-12", "teens-13-17"), ("campaign",), "500-2000", "L"),
    B("Sanierung der Bücherei im laufenden Betrieb", "Wie wir während der Sanierung geöffnet blieben.",
      "Die Sanierung des Dachs dauerte vier Monate. Wir zogen mit einem Teil des Bestands in den "
      "Ratssaal um und boten einen Abholservice an. Lessons learned: früh mit dem Bauamt reden.",
      "experience-report", ("third-place", "organisation"), ("adults",), ("organisation",), "gt-10000", "XL"),
    B("Energetische Sanierungen im Altbau planen", "Checkliste für Förderanträge bei Sanierungen.",
      "Mehrere Sanierungen an öffentlichen Gebäuden der Gemeinde wurden gebündelt. Die Bibliothek "
      "bekam neue Fenster und eine LED-Beleuchtung. Fördermittel kamen aus dem Klimaschutzprogramm.",
      "solution", ("funding", "sustainability"), ("administration-politics",), ("organisation",), "2000-10000", "XL", "planned"),
    B("Neues Gebäude für die Gemeindebücherei", "Umzug in die alte Schule: vom Raumprogramm bis zur Eröffnung.",
      "Das Gebäude der alten Grundschule stand leer. Mit dem Gemeinderat haben wir ein Raumprogramm "
      "entwickelt, inklusive Lesecafé und Gruppenraum.",
      "experience-report", ("third-place", "advocacy"), ("administration-politics", "adults"), ("space-equipment",), "gt-10000", "XL"),
    B("Barrierefreier Zugang zum Gebaude", "Rampe und Leitsystem nachgeruestet.",
      "Unser Gebaude hatte drei Stufen am Eingang. Eine mobile Rampe und ein taktiles Leitsystem "
      "machen die Buecherei jetzt fuer Rollstuhl und Rollator zugaenglich.",
      "solution", ("third-place",), ("disabilities", "seniors-60"), ("space-equipment",), "2000-10000", "L"),
    B("Makerspace im Keller", "3D-Drucker, Nähmaschine und Lötstation für alle.",
      "Im ungenutzten Keller entstand ein Makerspace. Ehrenamtliche betreuen die Geräte an zwei "
      "Nachmittagen. Jugendliche bauen dort Roboter und reparieren Kleidung.",
      "measure", ("media-education", "third-place"), ("teens-13-17", "young-adults"), ("space-equipment",), "2000-10000", "L", "established"),
    B("Mobiler Makerspace in der Kiste", "Ein Makerspace zum Ausleihen für Schulen.",
      "Calliope, Lego-Roboter und ein kleiner 3D-Drucker reisen in einer Kiste von Schule zu Schule. "
      "Die Lehrkräfte bekommen eine Einführung in der Bücherei.",
      "measure", ("media-education", "learning-place"), ("kita-schools", "children-6-12"), ("permanent-offer",), "500-2000", "M"),
    B("Bilderbuchkino am Samstagmorgen", "Bilderbücher groß auf der Leinwand, danach Basteln.",
      "Einmal im Monat zeigen wir ein Bilderbuchkino. Eine Ehrenamtliche liest vor, die Bilder "
      "laufen über den Beamer. Danach wird gebastelt. Eltern trinken Kaffee.",
      "event-concept", ("reading-promotion", "events-culture"), ("children-0-5",), ("event",), "0", "S", "established"),
    B("Bilderbuchkino in der Kita", "Die Bücherei kommt mit Beamer und Büchern in die Kita.",
      "Für Kitas ohne Fahrdienst kommen wir mit dem Bilderbuchkino vorbei. Jede Gruppe wählt "
      "vorher ein Buch aus der Kiste.",
      "event-concept", ("reading-promotion", "learning-place"), ("kita-schools", "children-0-5"), ("event",), "lt-100", "S"),
    B("Sprachcafé für Zugewanderte", "Deutsch üben bei Kaffee und Kuchen, jeden Dienstag.",
      "Das Sprachcafé lebt von Ehrenamtlichen, die Gespräche moderieren. Wir stellen Räume, "
      "Wörterbücher und einfache Lektüren in leichter Sprache.",
      "measure", ("democracy", "volunteering"), ("migration", "adults"), ("event", "permanent-offer"), "lt-100", "M", "established"),
    B("Sprachcafé digital", "Videotreffen für Lernende, die abends nicht kommen können.",
      "Nach der Pandemie haben wir das Sprachcafé zusätzlich online angeboten. Die Technik ist "
      "einfach: ein Laptop, ein Konferenzmikrofon und ein fester Link.",
      "idea", ("democracy", "media-education"), ("migration",), ("event",), "0", "S", "planned"),
    B("Bibliothek der Dinge", "Bohrmaschine, Nähmaschine und Zelt ausleihen statt kaufen.",
      "Die Bibliothek der Dinge begann mit zwanzig Gegenständen aus Spenden. Jeder Gegenstand hat "
      "einen Barcode und eine Checkliste für die Rückgabe. Besonders gefragt: Beamer und Waffeleisen.",
      "measure", ("collection", "sustainability"), ("adults", "non-users"), ("permanent-offer",), "500-2000", "M", "established"),
    B("Saatgutbibliothek", "Samen ausleihen, Pflanzen ziehen, Samen zurückbringen.",
      "In alten Karteikästen sammeln wir Saatgut. Die Gartenfreunde im Ort beraten einmal im Monat. "
      "Die Saatgutbibliothek ergänzt die Bibliothek der Dinge.",
      "idea", ("collection", "sustainability"), ("adults", "seniors-60"), ("permanent-offer",), "lt-100", "S"),
    B("Repair-Café im Lesesaal", "Einmal im Monat reparieren Ehrenamtliche Toaster und Fahrräder.",
      "Das Repair-Café bringt Menschen in die Bücherei, die sonst nie kommen. Reparaturbücher "
      "liegen bereit. Die Haftungsfrage haben wir mit der Gemeinde geklärt.",
      "event-concept", ("sustainability", "third-place"), ("non-users", "adults"), ("event",), "lt-100", "M", "established"),
    B("Open Library: länger öffnen ohne mehr Personal", "Zugang mit Bibliotheksausweis bis 22 Uhr.",
      "Mit der Open Library ist die Bücherei auch ohne Personal geöffnet. Videoüberwachung, "
      "Selbstverbuchung und eine Hausordnung machen es möglich. Die Öffnungsstunden haben sich verdreifacht.",
      "measure", ("organisation", "third-place"), ("adults", "young-adults"), ("organisation",), "gt-10000", "XL", "established"),
    B("Open Library im Dorf: Erfahrungen nach einem Jahr", "Was nach zwölf Monaten Open Library zählt.",
      "Die meisten Besuche kommen abends und am Wochenende. Vandalismus gab es nicht. Die "
      "Ausleihe stieg um ein Drittel, die Anmeldungen um ein Viertel.",
      "experience-report", ("organisation",), ("adults",), ("organisation",), "2000-10000", "L", "established"),
    B("Ehrenamt gewinnen und halten", "Wie wir zwölf Ehrenamtliche für die Ausleihe gewonnen haben.",
      "Ehrenamt braucht feste Ansprechpartner, klare Aufgaben und Dank. Wir laden zweimal im Jahr "
      "zum Ehrenamtsfrühstück ein und bieten Schulungen an.",
      "experience-report", ("volunteering",), ("volunteers",), ("organisation",), "100-500", "M", "established"),
    B("Ehrenamtskoordination mit der Gemeinde", "Eine geteilte Stelle für Ehrenamt in Bücherei und Museum.",
      "Die Gemeinde finanziert eine halbe Stelle, die Ehrenamtliche für Bücherei, Museum und "
      "Seniorentreff koordiniert. Dienstpläne laufen über ein gemeinsames Tool.",
      "cooperation-offer", ("volunteering", "cooperation"), ("volunteers", "administration-politics"), ("organisation",), "2000-10000", "L", "planned"),
    B("Onleihe-Sprechstunde", "Hilfe beim E-Book-Ausleihen auf dem eigenen Gerät.",
      "Jeden ersten Donnerstag erklären wir die Onleihe auf Smartphone, Tablet und E-Reader. "
      "Die meisten Gäste sind über sechzig. Ein Merkblatt zum Mitnehmen hilft beim Üben zuhause.",
      "measure", ("media-education",), ("seniors-60",), ("event", "permanent-offer"), "0", "S", "established"),
    B("Onleihe-Sprechstunde mit Schülerinnen", "Jugendliche erklären Senioren die Onleihe.",
      "Schülerinnen der achten Klasse bieten die Onleihe-Sprechstunde an. Die Jugendlichen lernen "
      "Geduld, die Senioren lernen E-Books. Beide Seiten kommen gerne wieder.",
      "event-concept", ("media-education", "learning-place"), ("seniors-60", "teens-13-17"), ("event",), "0", "S"),
    B("Digitalsprechstunde für Smartphones", "Fragen zum Handy: WhatsApp, Fotos, Online-Banking.",
      "Die Digitalsprechstunde ist offen, ohne Anmeldung. Wichtige Regel: wir tippen nicht für die "
      "Leute, wir erklären. Passwörter fassen wir nicht an.",
      "measure", ("media-education", "democracy"), ("seniors-60", "adults"), ("permanent-offer",), "0", "S", "established"),
    B("Vorlesepaten für Kitas", "Ehrenamtliche lesen wöchentlich in drei Kitas vor.",
      "Die Vorlesepaten werden von uns geschult und mit Bücherkisten ausgestattet. Die Kitas "
      "melden zurück, dass die Kinder ruhiger zuhören.",
      "measure", ("reading-promotion", "volunteering"), ("children-0-5", "kita-schools"), ("permanent-offer",), "lt-100", "M", "established"),
    B("Lesestart-Sets bei der U6", "Kinderärzte verteilen Lesestart-Sets und Büchereiausweise.",
      "Wir arbeiten mit zwei Kinderarztpraxen zusammen. Zum Set gehören ein Pappbilderbuch und ein "
      "Gutschein für den ersten Büchereiausweis.",
      "measure", ("reading-promotion", "cooperation"), ("children-0-5",), ("campaign",), "100-500", "S"),
    B("Lesenacht in der Bücherei", "Mit Taschenlampe und Schlafsack zwischen den Regalen.",
      "Die Lesenacht ist jedes Jahr ausgebucht. Eltern helfen beim Frühstück, die Feuerwehr "
      "kommt zur Sicherheitsbegehung vorbei. Gruselgeschichten sind Pflicht.",
      "event-concept", ("reading-promotion", "events-culture"), ("children-6-12",), ("event",), "100-500", "L", "established"),
    B("Krimidinner zwischen den Regalen", "Eine Lesung mit Menü und Mitmachkrimi für Erwachsene.",
      "Die Autorin las aus ihrem Regionalkrimi, der Dorfgasthof lieferte drei Gänge. Die "
      "Eintrittskarten waren nach einer Woche vergriffen.",
      "event-concept", ("events-culture", "funding"), ("adults",), ("event",), "500-2000", "L"),
    B("Autorenlesung gemeinsam buchen", "Eine Lesereise mit vier Büchereien teilen.",
      "Wir suchen Partnerbüchereien, um eine Autorin für eine Woche zu buchen. Honorar und "
      "Fahrtkosten werden geteilt, jede Bücherei bekommt einen Abend.",
      "cooperation-request", ("events-culture", "cooperation"), ("adults", "teens-13-17"), ("event",), "500-2000", "M", "planned"),
    B("Gaming-Nachmittag mit Konsolen", "Nintendo Switch und Brettspiele am Freitag.",
      "Der Gaming-Nachmittag holt Jugendliche in die Bücherei. Wir verleihen seitdem auch "
      "Konsolenspiele. Zwei Jugendliche betreuen den Nachmittag als Ehrenamt.",
      "measure", ("media-education", "collection"), ("teens-13-17",), ("event",), "500-2000", "M", "established"),
    B("Brettspielabend für alle Generationen", "Spieleabend mit dem Spieleverein.",
      "Der örtliche Spieleverein bringt Neuheiten mit, wir stellen Tische und Getränke. "
      "Spiele aus dem Bestand können direkt ausgeliehen werden.",
      "event-concept", ("collection", "events-culture"), ("adults", "seniors-60", "teens-13-17"), ("event",), "0", "S", "established"),
    B("Tonies und Tiptoi im Bestand", "Hörfiguren ausleihen: Regeln, Hygiene, Verschleiß.",
      "Die Tonies sind der Renner. Wir reinigen sie nach jeder Rückgabe und haben klare "
      "Regeln bei Verlust. Der Bestand wurde über einen Förderverein finanziert.",
      "solution", ("collection",), ("children-0-5", "children-6-12"), ("permanent-offer",), "500-2000", "S", "established"),
    B("Förderverein gründen", "Satzung, Gemeinnützigkeit und erste Mitglieder.",
      "Unser Förderverein hat heute achtzig Mitglieder. Er finanziert Veranstaltungen und "
      "Anschaffungen, die der Haushalt nicht hergibt. Die Satzung teilen wir gern.",
      "solution", ("funding", "advocacy"), ("adults", "administration-politics"), ("organisation",), "lt-100", "L", "established"),
    B("Förderanträge schreiben im Team", "Wie drei Büchereien gemeinsam Anträge stellen.",
      "Wir schreiben Anträge für Landesprogramme gemeinsam und teilen Textbausteine. "
      "So hat jede Bücherei im letzten Jahr mindestens einen Antrag bewilligt bekommen.",
      "cooperation-offer", ("funding", "cooperation"), ("administration-politics",), ("organisation",), "0", "M"),
    B("Bücherei im Gemeinderat vorstellen", "Zahlen, Geschichten und ein Besuch des Ausschusses.",
      "Einmal im Jahr stellen wir im Kulturausschuss vor, was die Bücherei leistet. Statt "
      "Tabellen zeigen wir Geschichten von Nutzerinnen. Seitdem ist das Budget stabil.",
      "experience-report", ("advocacy",), ("administration-politics",), ("campaign",), "0", "S", "established"),
    B("Jahresbericht als Plakat", "Ein DIN-A1-Plakat statt eines langen Berichts.",
      "Das Plakat zeigt Ausleihen, Veranstaltungen und Besuche auf einen Blick. Es hängt im "
      "Rathaus und in der Bücherei.",
      "idea", ("public-relations", "advocacy"), ("administration-politics", "adults"), ("campaign",), "lt-100", "S"),
    B("Instagram für kleine Büchereien", "Drei Posts pro Woche mit wenig Aufwand.",
      "Ein Redaktionsplan, feste Formate wie Buchtipp am Montag und Blick hinter die Kulissen. "
      "Die Fotos macht eine Ehrenamtliche.",
      "solution", ("public-relations",), ("young-adults", "adults"), ("campaign",), "0", "M", "established"),
    B("Büchereifest zum Jubiläum", "Fünfzig Jahre Bücherei mit Flohmarkt und Musik.",
      "Zum Jubiläum feierten wir mit Bücherflohmarkt, Blasmusik und Kinderschminken auf der "
      "Straße vor der Bücherei. Die Straße war dafür gesperrt.",
      "event-concept", ("events-culture", "public-relations"), ("adults", "children-6-12"), ("event",), "500-2000", "L"),
    B("Bücherflohmarkt an der Hauptstrasse", "Aussortierte Bücher verkaufen, Erlös für Neues.",
      "Der Flohmarkt findet zweimal im Jahr an der Hauptstrasse statt. Der Erlös geht an den "
      "Förderverein. Reste holt ein Sozialkaufhaus ab.",
      "measure", ("collection", "funding"), ("adults",), ("event",), "0", "S", "established"),
    B("Medienkisten für Grundschulen", "Themenkisten zu Sachunterricht und Lesen.",
      "Lehrkräfte bestellen per Formular, wir packen zwanzig Medien zum Thema. Die Kisten "
      "werden mit dem Hausmeister-Transport der Gemeinde gebracht.",
      "measure", ("learning-place", "reading-promotion"), ("kita-schools", "children-6-12"), ("permanent-offer",), "0", "M", "established"),
    B("Bibliotheksführerschein für Vorschulkinder", "Drei Besuche bis zum ersten Ausweis.",
      "Die Kitakinder kommen dreimal in die Bücherei, lösen kleine Aufgaben und bekommen am "
      "Ende ihren Bibliotheksführerschein.",
      "event-concept", ("learning-place", "reading-promotion"), ("children-0-5", "kita-schools"), ("event",), "lt-100", "M", "established"),
    B("Hausaufgabenhilfe in der Bücherei", "Ehrenamtliche helfen nach der Schule.",
      "Pensionierte Lehrkräfte betreuen dienstags und donnerstags die Hausaufgabenhilfe. "
      "Die Schule schickt Kinder, die zuhause keinen ruhigen Platz haben.",
      "measure", ("learning-place", "volunteering"), ("children-6-12", "kita-schools"), ("permanent-offer",), "0", "M", "established"),
    B("Lernort für Prüfungen", "Ruhige Arbeitsplätze für Azubis und Studierende.",
      "In der Prüfungszeit öffnen wir den Gruppenraum als Lernort. WLAN, Steckdosen und Ruhe "
      "sind das Wichtigste. Kaffee gibt es gegen Spende.",
      "idea", ("learning-place", "third-place"), ("young-adults",), ("space-equipment",), "lt-100", "S"),
    B("Demokratie-Dialog vor der Kommunalwahl", "Kandidierende stellen sich Fragen aus dem Ort.",
      "Die Bücherei ist ein neutraler Ort. Vor der Kommunalwahl moderierte die Leiterin ein "
      "Gespräch mit allen Kandidierenden. Fragen kamen vorher über eine Box.",
      "event-concept", ("democracy", "advocacy"), ("adults", "young-adults"), ("event",), "0", "M"),
    B("Menschenbibliothek", "Menschen statt Bücher ausleihen: Gespräche gegen Vorurteile.",
      "In der Menschenbibliothek erzählen Menschen aus ihrem Leben: ein Imam, eine Bäuerin, ein "
      "Geflüchteter. Das Gespräch dauert dreißig Minuten.",
      "event-concept", ("democracy", "events-culture"), ("adults", "teens-13-17"), ("event",), "lt-100", "M"),
    B("Leichte Sprache im Bestand", "Eine Ecke für Bücher in einfacher und leichter Sprache.",
      "Wir haben Bücher in leichter Sprache gesammelt und gekennzeichnet. Die Lebenshilfe hat "
      "das Leitsystem mit uns getestet.",
      "measure", ("collection", "democracy"), ("disabilities", "migration"), ("permanent-offer",), "100-500", "S", "established"),
    B("Vorlesen für Menschen mit Demenz", "Kurze Geschichten und Lieder im Pflegeheim.",
      "Einmal im Monat besuchen wir das Pflegeheim mit Erinnerungskoffer und kurzen "
      "Geschichten. Die Pflegekräfte sagen, dass die Stimmung danach gelöst ist.",
      "measure", ("reading-promotion", "cooperation"), ("seniors-60", "disabilities"), ("event",), "0", "S", "established"),
    B("Bücher-Lieferdienst für Senioren", "Ehrenamtliche bringen Medien nach Hause.",
      "Wer nicht mehr mobil ist, bekommt alle drei Wochen eine Tasche mit Büchern. Die "
      "Wünsche nehmen wir am Telefon auf.",
      "measure", ("volunteering", "collection"), ("seniors-60", "disabilities"), ("permanent-offer",), "0", "M", "established"),
    B("Dritter Ort: Sofaecke und Zeitungscafé", "Wie aus der Ausleihe ein Treffpunkt wurde.",
      "Wir haben zwei Regale abgebaut und eine Sofaecke mit Zeitungen eingerichtet. Jetzt "
      "bleiben die Leute länger. Die Kaffeemaschine hat der Förderverein gespendet.",
      "measure", ("third-place",), ("adults", "seniors-60"), ("space-equipment",), "500-2000", "M", "established"),
    B("Umgestaltung der Kinderecke", "Podest, Kuschelhöhle und Bilderbuchtröge.",
      "Mit einem Schreiner aus dem Ort haben wir ein Podest mit Höhle gebaut. Die "
      "Bilderbuchtröge sind nach Farben sortiert.",
      "measure", ("third-place", "reading-promotion"), ("children-0-5",), ("space-equipment",), "2000-10000", "L"),
    B("RFID-Umstellung in kleinen Schritten", "Etikettieren mit Ehrenamtlichen in sechs Wochen.",
      "Die RFID-Umstellung haben wir in den Sommerferien erledigt. Ehrenamtliche klebten "
      "Etiketten, wir programmierten. Die Selbstverbuchung entlastet die Theke.",
      "experience-report", ("organisation",), ("volunteers",), ("organisation",), "gt-10000", "XL", "done"),
    B("Neues Bibliothekssystem in der Cloud", "Wechsel des Bibliothekssystems ohne IT-Abteilung.",
      "Der Anbieter migrierte die Daten, wir prüften Stichproben. Schulung per Video. "
      "Nach vier Wochen lief alles, nur die Mahnungen mussten wir anpassen.",
      "experience-report", ("organisation",), ("administration-politics",), ("organisation",), "2000-10000", "L"),
    B("Strategieworkshop mit dem Toolkit", "Zwei Stunden Reflektieren und Reagieren im Team.",
      "Mit dem Toolkit haben wir im Team und mit dem Bürgermeister Prioritäten gesetzt: "
      "Leseförderung und Dritter Ort. Das Ergebnis hängt im Büro.",
      "experience-report", ("strategy",), ("administration-politics", "volunteers"), ("organisation",), "0", "S"),
    B("Bibliothekskonzept für den Gemeinderat", "Ein Konzept für fünf Jahre in zehn Seiten.",
      "Das Bibliothekskonzept beschreibt Ziele, Zielgruppen und Ressourcen. Der Gemeinderat hat "
      "es beschlossen, seitdem planen wir verlässlicher.",
      "solution", ("strategy", "advocacy"), ("administration-politics",), ("organisation",), "0", "L", "established"),
    B("Klimawoche mit Bibliothek der Dinge", "Leihen statt kaufen, Kleidertausch und Vortrag.",
      "In der Klimawoche zeigen wir, wie Teilen funktioniert: Kleidertausch, Repair-Café und "
      "Vortrag zum Energiesparen.",
      "event-concept", ("sustainability", "events-culture"), ("adults", "young-adults"), ("event",), "100-500", "M"),
    B("Grüne Bücherei: Energiesparen im Alltag", "Kleine Maßnahmen, messbare Wirkung.",
      "Wir haben Heizzeiten angepasst, Geräte abgeschaltet und Recyclingpapier eingeführt. "
      "Der Stromverbrauch sank um zwölf Prozent.",
      "solution", ("sustainability", "organisation"), ("administration-politics",), ("organisation",), "0", "S", "established"),
    B("Veranstaltungsreihe Lokalgeschichte", "Vorträge mit dem Heimatverein jeden Herbst.",
      "Die Veranstaltungen mit dem Heimatverein ziehen ein Publikum an, das sonst selten kommt. "
      "Alte Fotos aus dem Archiv werden gescannt und gezeigt.",
      "event-concept", ("events-culture", "cooperation"), ("seniors-60", "adults"), ("event",), "lt-100", "M", "established"),
    B("Veranstaltung planen mit wenig Personal", "Eine Checkliste für jede Veranstaltung.",
      "Mit anderthalb Stellen muss jede Veranstaltung sitzen. Unsere Checkliste umfasst "
      "Werbung, Technik, Getränke und Nachbereitung.",
      "solution", ("events-culture", "organisation"), ("volunteers",), ("organisation",), "0", "S", "established"),
    B("Schreibwerkstatt für Jugendliche", "Kreatives Schreiben mit einer Autorin.",
      "An vier Nachmittagen schreiben Jugendliche Geschichten, die wir am Ende als kleines Heft "
      "drucken. Die Autorin kommt über ein Landesprogramm.",
      "event-concept", ("reading-promotion", "events-culture"), ("teens-13-17",), ("event",), "500-2000", "M"),
    B("Podcast aus der Bücherei", "Buchtipps und Interviews aus dem Ort.",
      "Ein Mikrofon, ein Laptop und eine ruhige Ecke reichen. Jugendliche aus der AG nehmen "
      "die Folgen auf.",
      "idea", ("media-education", "public-relations"), ("teens-13-17", "young-adults"), ("campaign",), "100-500", "M", "planned"),
    B("Zusammenarbeit mit der Volkshochschule", "Kurse in der Bücherei, Medien zur VHS.",
      "Die Volkshochschule nutzt unseren Gruppenraum, wir stellen Medienlisten zu jedem Kurs "
      "zusammen. Teilnehmende bekommen einen Schnupperausweis.",
      "measure", ("cooperation", "learning-place"), ("adults",), ("organisation",), "0", "S", "established"),
    B("Gemeinsamer Einkauf im Landkreis", "Medien gemeinsam bestellen und Rabatt nutzen.",
      "Fünf Büchereien im Landkreis bündeln ihre Bestellungen beim Buchhandel. Die Fachstelle "
      "koordiniert, der Rabatt finanziert eine zusätzliche Lizenz.",
      "cooperation-offer", ("cooperation", "collection"), ("administration-politics",), ("organisation",), "0", "M"),
)

# Realistic libraries: villages to middle towns; the numbers are plausible, not real.
LIBRARIES: tuple[LibrarySpec, ...] = (
    LibrarySpec("heideloh", "Gemeindebücherei Heideloh", "DE-NI", 6000, 250.0, 1.5),
    LibrarySpec("wiesental", "Bücherei Wiesental", "DE-BW", 6400, 280.0, 1.6),
    LibrarySpec("moorbach", "Bücherei Moorbach", "DE-NI", 5600, 230.0, 1.4),
    LibrarySpec("seeburg", "Stadtbibliothek Seeburg", "DE-BY", 21000, 900.0, 6.5),
    LibrarySpec("kleinau", "Ehrenamtliche Bücherei Kleinau", "DE-ST", 1200, 60.0, 0.0),
    LibrarySpec("talheim", "Gemeindebibliothek Talheim", "DE-BW", 9800, 400.0, 2.5),
    LibrarySpec("fachstelle-nord", "Büchereifachstelle Nord", "DE-SH", None, None, 4.0, "fachstelle"),
    LibrarySpec("lindenau", "Stadtbücherei Lindenau", "DE-SN", 14500, 620.0, 3.8, domain="peer.example"),
    LibrarySpec("brückfeld", "Bücherei Brückfeld", "DE-NI", 6100, 240.0, 1.5, domain="peer.example"),
    LibrarySpec("ostheim", "Stadtbibliothek Ostheim", "DE-TH", 48000, 2100.0, 14.0, domain="other.example"),
)


def corpus(seed: int = 4) -> list[tuple[int, Block, datetime]]:
    """(library index, block, published_at) for several hundred measures, deterministic.

    Every library publishes a varied share of the blocks; the dates spread over three years
    so "newest" orders are meaningful and unique.
    """
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out: list[tuple[int, Block, datetime]] = []
    for lib_index in range(len(LIBRARIES)):
        share = rng.sample(BLOCKS, k=rng.randint(28, 45))
        out.extend((lib_index, block, start) for block in share)
    rng.shuffle(out)
    return [(i, b, start + timedelta(hours=7 * n + rng.randint(0, 5))) for n, (i, b, _) in enumerate(out)]


FILLER = (
    "Ausgangslage: Wenig Personal, viele Ideen und ein kleines Budget.",
    "Umsetzung: Wir haben das Vorhaben in kleine Schritte geteilt und Zuständigkeiten verteilt.",
    "Ergebnisse: Die Rückmeldungen waren positiv, die Zahlen sind gestiegen.",
    "Lessons learned: Früh planen, Partner einbinden und Ehrenamtliche wertschätzen.",
    "Materialien: Checklisten, Plakatvorlagen und Pressetexte teilen wir gern.",
    "Kontakt: Schreiben Sie uns über das Funktionspostfach der Bücherei.",
)


def synthetic_text(rng: random.Random) -> tuple[Block, str]:
    """A block and a longer body (block body plus filler paragraphs) for the benchmark."""
    block = rng.choice(BLOCKS)
    paragraphs = [block.body, *rng.sample(FILLER, k=3), rng.choice(BLOCKS).body]
    return block, "\n\n".join(paragraphs)
