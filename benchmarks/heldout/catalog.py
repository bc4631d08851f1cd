"""The product generator: vendors of several industries and languages, and seeded products
(names, SKUs of each vendor's shape, brands, prices, stock, dates, tags, URLs) that every
template renders. The ground truth of a case is taken from these records, never written by hand."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

LANGS = ("en", "de", "fr", "nl", "es")

# Per industry: (noun in en, de, fr, nl, es; tags; attributes that end the name; price range).
# Several attributes are sizes and weights (12 kg, 27", 250FT): they are NOT SKUs.
_Noun = tuple[tuple[str, str, str, str, str], tuple[str, ...], tuple[str, ...], tuple[float, float]]

NOUNS: dict[str, list[_Noun]] = {
    "tools": [
        (("Cordless Drill", "Akku-Bohrschrauber", "Perceuse sans fil", "Accuboormachine", "Taladro inalámbrico"), ("drill", "cordless"), ("18V", "12V", "18V Brushless", "Compact 12V"), (59, 420)),
        (("Impact Driver", "Schlagschrauber", "Visseuse à chocs", "Slagschroevendraaier", "Atornillador de impacto"), ("driver", "cordless"), ("18V", "1/4\"", "Brushless"), (79, 380)),
        (("Angle Grinder", "Winkelschleifer", "Meuleuse d'angle", "Haakse slijper", "Amoladora angular"), ("grinder", "metal"), ("125 mm", "115 mm", "230 mm 2200 W"), (45, 260)),
        (("Jigsaw", "Stichsäge", "Scie sauteuse", "Decoupeerzaag", "Sierra de calar"), ("saw", "wood"), ("650 W", "Pendulum 720 W"), (55, 240)),
        (("Circular Saw", "Handkreissäge", "Scie circulaire", "Cirkelzaag", "Sierra circular"), ("saw", "wood"), ("190 mm", "165 mm 1400 W"), (89, 390)),
        (("Claw Hammer", "Latthammer", "Marteau de charpentier", "Klauwhamer", "Martillo de carpintero"), ("hammer", "hand tool"), ("16 oz", "600 g", "20 oz"), (12, 45)),
        (("Socket Set", "Steckschlüsselsatz", "Coffret de douilles", "Doppendoos", "Juego de vasos"), ("socket", "set"), ("1/2\" 24-piece", "1/4\" 46-piece", "94-piece"), (29, 210)),
        (("Torque Wrench", "Drehmomentschlüssel", "Clé dynamométrique", "Momentsleutel", "Llave dinamométrica"), ("wrench", "torque"), ("1/2\" 40-200 Nm", "3/8\" 20-100 Nm"), (49, 320)),
        (("Spirit Level", "Wasserwaage", "Niveau à bulle", "Waterpas", "Nivel de burbuja"), ("measuring",), ("600 mm", "1200 mm", "2000 mm"), (14, 95)),
        (("Tape Measure", "Maßband", "Mètre ruban", "Rolmaat", "Cinta métrica"), ("measuring",), ("5 m", "8 m", "25FT"), (6, 32)),
        (("Wet/Dry Vacuum", "Nass-Trockensauger", "Aspirateur eau et poussière", "Nat-droogzuiger", "Aspirador seco-húmedo"), ("vacuum", "workshop"), ("30 L", "20 L 1200 W"), (89, 420)),
        (("Cement Mixer", "Betonmischer", "Bétonnière", "Betonmolen", "Hormigonera"), ("site", "mixer"), ("140 L", "160 L 12 kg drum"), (189, 690)),
    ],
    "electronics": [
        (("Wireless Earbuds", "Kabellose Ohrhörer", "Écouteurs sans fil", "Draadloze oordopjes", "Auriculares inalámbricos"), ("audio", "bluetooth"), ("Pro", "ANC", "Mini"), (19, 249)),
        (("USB-C Hub", "USB-C-Hub", "Hub USB-C", "USB-C-hub", "Hub USB-C"), ("usb", "accessory"), ("7-in-1", "4-port", "10 Gbps"), (15, 89)),
        (("Bluetooth Speaker", "Bluetooth-Lautsprecher", "Enceinte Bluetooth", "Bluetooth-speaker", "Altavoz Bluetooth"), ("audio", "bluetooth"), ("20 W", "Mini", "Outdoor 40 W"), (25, 199)),
        (("Mechanical Keyboard", "Mechanische Tastatur", "Clavier mécanique", "Mechanisch toetsenbord", "Teclado mecánico"), ("keyboard", "gaming"), ("TKL", "RGB", "75%"), (49, 229)),
        (("Webcam", "Webcam", "Webcam", "Webcam", "Cámara web"), ("video", "office"), ("1080p", "4K"), (29, 189)),
        (("Power Bank", "Powerbank", "Batterie externe", "Powerbank", "Batería externa"), ("charging", "mobile"), ("10000 mAh", "20000 mAh 65 W"), (19, 99)),
        (("Smart Plug", "Smarte Steckdose", "Prise connectée", "Slimme stekker", "Enchufe inteligente"), ("smart home",), ("2-pack", "4-pack", "16 A"), (12, 59)),
        (("Portable SSD", "Externe SSD", "SSD externe", "Externe SSD", "SSD externo"), ("storage",), ("1TB", "2TB", "500GB"), (49, 289)),
        (("Monitor", "Monitor", "Écran", "Monitor", "Monitor"), ("display",), ("27\" QHD", "24\" IPS", "32\" 4K"), (129, 899)),
        (("Ethernet Cable", "Netzwerkkabel", "Câble Ethernet", "Netwerkkabel", "Cable Ethernet"), ("cable", "network"), ("Cat6 250FT", "Cat6 10 m", "Cat7 2 m"), (4, 89)),
    ],
    "food": [
        (("Arabica Coffee Beans", "Arabica-Kaffeebohnen", "Café en grains arabica", "Arabica koffiebonen", "Café en grano arábica"), ("coffee", "organic"), ("1 kg", "500 g", "250 g"), (5.5, 32)),
        (("Green Tea Sencha", "Grüner Tee Sencha", "Thé vert Sencha", "Groene thee Sencha", "Té verde Sencha"), ("tea",), ("100 g", "20 bags"), (3.2, 14)),
        (("Dark Chocolate 85%", "Zartbitterschokolade 85%", "Chocolat noir 85%", "Pure chocolade 85%", "Chocolate negro 85%"), ("chocolate", "vegan"), ("100 g", "3 x 100 g"), (1.8, 9.5)),
        (("Extra Virgin Olive Oil", "Natives Olivenöl extra", "Huile d'olive vierge extra", "Extra vierge olijfolie", "Aceite de oliva virgen extra"), ("oil", "organic"), ("500 ml", "750 ml", "5 L"), (6.5, 49)),
        (("Basmati Rice", "Basmatireis", "Riz basmati", "Basmatirijst", "Arroz basmati"), ("rice", "pantry"), ("1 kg", "5 kg"), (2.4, 16)),
        (("Wildflower Honey", "Blütenhonig", "Miel de fleurs", "Bloemenhoning", "Miel de milflores"), ("honey", "pantry"), ("250 g", "500 g"), (4.5, 15)),
        (("Espresso Capsules", "Espresso-Kapseln", "Capsules espresso", "Espressocups", "Cápsulas de espresso"), ("coffee",), ("10 pcs", "50 pcs"), (2.9, 17)),
        (("Sea Salt Crackers", "Meersalz-Cracker", "Crackers au sel de mer", "Zeezoutcrackers", "Galletas con sal marina"), ("snack",), ("150 g", "250 g"), (1.5, 4.9)),
        (("Balsamic Vinegar", "Balsamico-Essig", "Vinaigre balsamique", "Balsamicoazijn", "Vinagre balsámico"), ("vinegar", "pantry"), ("250 ml", "500 ml"), (3.9, 24)),
        (("Sparkling Water", "Mineralwasser mit Kohlensäure", "Eau pétillante", "Bruisend water", "Agua con gas"), ("water", "drinks"), ("6 x 1 L", "12 x 0.5 L"), (2.9, 8.9)),
    ],
    "fashion": [
        (("Merino Crew Sweater", "Merino-Pullover", "Pull ras du cou en mérinos", "Merino trui", "Jersey de merino"), ("knitwear", "wool"), ("Black M", "Navy L", "Grey S"), (69, 149)),
        (("Slim Fit Chinos", "Chinohose Slim Fit", "Chino coupe slim", "Slim fit chino", "Chinos slim fit"), ("trousers",), ("Sand 32/32", "Navy 34/32", "Olive 30/30"), (49, 99)),
        (("Leather Belt", "Ledergürtel", "Ceinture en cuir", "Leren riem", "Cinturón de cuero"), ("leather", "accessory"), ("Brown 95 cm", "Black 105 cm"), (29, 89)),
        (("Rain Jacket", "Regenjacke", "Veste de pluie", "Regenjas", "Chaqueta impermeable"), ("outerwear", "waterproof"), ("Olive M", "Black L", "Yellow S"), (89, 249)),
        (("Linen Shirt", "Leinenhemd", "Chemise en lin", "Linnen overhemd", "Camisa de lino"), ("shirt", "summer"), ("White M", "Blue L"), (45, 110)),
        (("Wool Scarf", "Wollschal", "Écharpe en laine", "Wollen sjaal", "Bufanda de lana"), ("wool", "accessory"), ("Grey", "Camel 180 cm"), (25, 79)),
        (("Canvas Sneakers", "Canvas-Sneaker", "Baskets en toile", "Canvas sneakers", "Zapatillas de lona"), ("shoes",), ("White 42", "Navy 40", "Black 44"), (39, 95)),
        (("Down Vest", "Daunenweste", "Gilet en duvet", "Donzen bodywarmer", "Chaleco de plumas"), ("outerwear",), ("Navy M", "Black L"), (79, 199)),
    ],
    "office": [
        (("Copy Paper A4", "Kopierpapier A4", "Papier copieur A4", "Kopieerpapier A4", "Papel de copia A4"), ("paper",), ("80 g/m² 500 sheets", "5 x 500 sheets"), (4.2, 29)),
        (("Gel Pens Blue", "Gelschreiber blau", "Stylos gel bleus", "Gelpennen blauw", "Bolígrafos de gel azules"), ("pens", "writing"), ("12-pack", "0.5 mm 10-pack"), (5.9, 18)),
        (("Stapler", "Heftgerät", "Agrafeuse", "Nietmachine", "Grapadora"), ("desk",), ("24/6 30 sheets", "Heavy Duty 100 sheets"), (7.5, 69)),
        (("Lever Arch File", "Ordner", "Classeur à levier", "Ordner", "Archivador de palanca"), ("filing",), ("80 mm", "50 mm 10-pack"), (2.1, 39)),
        (("Desk Organizer", "Schreibtisch-Organizer", "Organiseur de bureau", "Bureau-organizer", "Organizador de escritorio"), ("desk",), ("Black", "Bamboo"), (9.9, 45)),
        (("Sticky Notes", "Haftnotizen", "Notes adhésives", "Memoblaadjes", "Notas adhesivas"), ("notes",), ("76 x 76 mm 12 pads", "4 colours"), (3.5, 19)),
        (("Whiteboard Markers", "Whiteboard-Marker", "Marqueurs effaçables", "Whiteboardstiften", "Rotuladores de pizarra"), ("writing", "meeting"), ("4 colours", "Black 10-pack"), (4.9, 21)),
        (("Label Printer", "Etikettendrucker", "Étiqueteuse", "Labelprinter", "Impresora de etiquetas"), ("labels", "printer"), ("USB", "Wi-Fi 62 mm"), (59, 260)),
        (("Laminator", "Laminiergerät", "Plastifieuse", "Lamineerapparaat", "Plastificadora"), ("desk",), ("A4", "A3"), (29, 149)),
    ],
    "lab": [
        (("Micropipette", "Mikropipette", "Micropipette", "Micropipet", "Micropipeta"), ("pipetting",), ("10-100 µL", "100-1000 µL", "0.5-10 µL"), (149, 420)),
        (("Borosilicate Beaker", "Becherglas Borosilikat", "Bécher borosilicaté", "Bekerglas borosilicaat", "Vaso de precipitados"), ("glassware",), ("250 ml", "600 ml 10-pack"), (4, 69)),
        (("Nitrile Gloves", "Nitrilhandschuhe", "Gants nitrile", "Nitril handschoenen", "Guantes de nitrilo"), ("safety", "disposable"), ("M (100)", "L (100)", "S (200)"), (6.5, 24)),
        (("Centrifuge Tubes", "Zentrifugenröhrchen", "Tubes à centrifuger", "Centrifugebuisjes", "Tubos de centrífuga"), ("consumables",), ("50 ml (500)", "15 ml (1000)"), (39, 159)),
        (("Magnetic Stirrer", "Magnetrührer", "Agitateur magnétique", "Magneetroerder", "Agitador magnético"), ("mixing",), ("with hotplate", "5 L"), (189, 890)),
        (("pH Meter", "pH-Meter", "pH-mètre", "pH-meter", "Medidor de pH"), ("measuring",), ("Benchtop", "Pocket"), (59, 1290)),
        (("Petri Dishes", "Petrischalen", "Boîtes de Petri", "Petrischalen", "Placas de Petri"), ("consumables", "microbiology"), ("90 mm (500)", "60 mm (500)"), (49, 149)),
        (("Benchtop Centrifuge", "Tischzentrifuge", "Centrifugeuse de paillasse", "Tafelcentrifuge", "Centrífuga de sobremesa"), ("centrifuge",), ("15000 rpm", "6 x 50 ml"), (1290, 4800)),
        (("Analytical Balance", "Analysenwaage", "Balance analytique", "Analytische balans", "Balanza analítica"), ("weighing",), ("0.1 mg", "220 g / 0.1 mg"), (1490, 4200)),
    ],
}  # fmt: skip


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


# SKU shapes seen in real price lists.
SKU_STYLES: dict[str, Callable[[random.Random], str]] = {
    "dash4": lambda r: f"{_letters(r, 3)}-{_digits(r, 4)}",
    "dotted": lambda r: f"{_letters(r, 2)}.{_digits(r, 4)}.{_digits(r, 2)}",
    "numeric": lambda r: str(r.randint(100000, 999999)),
    "prefix_run": lambda r: f"{_letters(r, 3)}{_digits(r, 6)}",
    "slash": lambda r: f"{_letters(r, 2)}/{_digits(r, 4)}",
    "variant": lambda r: f"{_letters(r, 2)}-{_letters(r, 3)}-{_digits(r, 3)}",
    "year": lambda r: f"{_letters(r, 2)}{r.choice(['23', '24', '25'])}-{_digits(r, 4)}",
    "lower": lambda r: (
        f"{_letters(r, 2).lower()}{_digits(r, 4)}-{r.choice(['bk', 'wh', 'gr', 'bl'])}"
    ),
    "triple": lambda r: f"{_letters(r, 2)}-{_digits(r, 2)}-{_digits(r, 4)}",
    "hash": lambda r: f"{_digits(r, 4)}-{_digits(r, 2)}",
}


@dataclass(frozen=True)
class Vendor:
    key: str
    company: str
    industry: str
    locale: str  # a key of locales.LOCALES
    currency: str  # ISO 4217
    sku_style: str
    brands: tuple[str, ...]
    domain: str
    path: str  # URL path before the slug
    city: str


VENDORS: list[Vendor] = [
    Vendor("torvik", "Torvik Tools Inc.", "tools", "en-US", "USD", "dash4", ("Torvik", "Ferrum", "Makron"), "torvik-tools.example", "products", "Cleveland, OH"),
    Vendor("hallberg", "Hallberg Werkzeuge GmbH", "tools", "de", "EUR", "dotted", ("Hallberg", "Bosma", "Ferrum"), "hallberg-werkzeuge.example", "de/artikel", "Remscheid"),
    Vendor("voltra", "Voltra Electronics Ltd", "electronics", "en-GB", "GBP", "prefix_run", ("Voltra", "Lumio", "Sonara"), "voltra.example.co.uk", "shop", "Reading"),
    Vendor("nexigo", "Nexigo B.V.", "electronics", "nl", "EUR", "numeric", ("Nexigo", "Kyvo", "Lumio"), "nexigo.example.nl", "nl/product", "Eindhoven"),
    Vendor("duval", "Maison Duval", "food", "fr", "EUR", "variant", ("Maison Duval", "Terra Verde", "Les Ruchers"), "maison-duval.example.fr", "produit", "Lyon"),
    Vendor("oliva", "Casa Oliva S.L.", "food", "es", "EUR", "slash", ("Casa Oliva", "Terra Verde"), "casaoliva.example.es", "es/producto", "Jaén"),
    Vendor("nordvik", "Nordvik Apparel Co.", "fashion", "en-US", "USD", "variant", ("Nordvik", "Hartwell"), "nordvik.example.com", "products", "Portland, OR"),
    Vendor("lune", "Atelier Lune", "fashion", "fr", "EUR", "year", ("Atelier Lune", "Blauw & Co"), "atelier-lune.example.fr", "fr/p", "Paris"),
    Vendor("papyra", "Papyra Bürobedarf AG", "office", "de-CH", "CHF", "dash4", ("Papyra", "Scriba", "OfficeLine"), "papyra.example.ch", "de/shop", "Zürich"),
    Vendor("kantoor", "Kantoorpro B.V.", "office", "nl", "EUR", "lower", ("Kantoorpro", "Scriba", "OfficeLine"), "kantoorpro.example.nl", "artikel", "Utrecht"),
    Vendor("labora", "Labora Scientific LLC", "lab", "en-US", "USD", "triple", ("Labora", "Pipetech", "Sciencia"), "labora-scientific.example", "catalog/item", "Madison, WI"),
    Vendor("vitrum", "Vitrum Laborbedarf GmbH", "lab", "de", "EUR", "triple", ("Vitrum", "Sciencia", "Pipetech"), "vitrum-labor.example.de", "shop/artikel", "Jena"),
    Vendor("bergmann", "Bergmann Feinkost KG", "food", "de", "EUR", "hash", ("Bergmann", "Terra Verde", "Maison Duval"), "bergmann-feinkost.example.de", "produkte", "Bremen"),
    Vendor("hartwell", "Hartwell & Sons Ltd", "fashion", "en-GB", "GBP", "prefix_run", ("Hartwell", "Nordvik"), "hartwell.example.co.uk", "collections/all/products", "Leeds"),
]  # fmt: skip

VENDOR_BY_KEY = {v.key: v for v in VENDORS}


@dataclass
class Product:
    name: str
    sku: str
    brand: str
    price: float  # the net / unit price in major units
    currency: str
    in_stock: bool
    stock_qty: int
    release_date: date
    tags: list[str]
    url: str
    ean: str
    weight: str
    category: str  # the noun's first tag, for section headings
    list_price: float  # the RRP / list price, above ``price``
    available_from: date
    extra: dict[str, object] = field(default_factory=dict)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def ean13(rng: random.Random) -> str:
    body = rng.choice(["40", "30", "87", "84", "76", "50"]) + _digits(rng, 10)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _price(rng: random.Random, low: float, high: float) -> float:
    # Log-uniform, then a shop-like ending.
    value = low * (high / low) ** rng.random()
    whole = int(value)
    ending = rng.choice([0.99, 0.5, 0.0, 0.95, round(rng.random(), 2)])
    return round(max(whole + ending, 0.5), 2)


def lang_of(locale: str) -> str:
    return locale.split("-")[0]


def make_products(
    rng: random.Random,
    vendor: Vendor,
    count: int,
    *,
    lang: str | None = None,
    price_scale: tuple[float, float] | None = None,
) -> list[Product]:
    """``count`` distinct products of ``vendor``, named in ``lang`` (default: the vendor's)."""
    lang = lang or lang_of(vendor.locale)
    li = LANGS.index(lang)
    nouns = NOUNS[vendor.industry]
    products: list[Product] = []
    names: set[str] = set()
    skus: set[str] = set()
    attempts = 0
    while len(products) < count:
        attempts += 1
        if attempts > 50 * count:
            raise ValueError(f"{vendor.key}: cannot make {count} distinct products")
        noun, tags, attrs, (low, high) = rng.choice(nouns)
        if price_scale:
            low, high = price_scale
        brand = rng.choice(vendor.brands)
        model = ""
        if vendor.industry in ("tools", "electronics", "lab") and rng.random() < 0.6:
            model = rng.choice(["X", "S", "Pro ", "V", "Z", "M", "HX"]) + str(
                rng.randint(2, 95) * 10
            )
        name = " ".join(p for p in (brand, model, noun[li], rng.choice(attrs)) if p)
        sku = SKU_STYLES[vendor.sku_style](rng)
        if name in names or sku in skus:
            continue
        names.add(name)
        skus.add(sku)
        price = _price(rng, low, high)
        qty = 0 if rng.random() < 0.25 else rng.choice([rng.randint(1, 9), rng.randint(10, 480)])
        released = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1640))
        extra_tags = rng.sample(
            ["new", "bestseller", "sale", "eco", "pro", "gift"], rng.randint(0, 2)
        )
        products.append(
            Product(
                name=name,
                sku=sku,
                brand=brand,
                price=price,
                currency=vendor.currency,
                in_stock=qty > 0,
                stock_qty=qty,
                release_date=released,
                tags=[*tags, *extra_tags][:3],
                url=f"https://{vendor.domain}/{vendor.path}/{slugify(name)}",
                ean=ean13(rng),
                weight=rng.choice(
                    ["120 g", "250 g", "450 g"]
                    if price < 25
                    else ["0.8 kg", "1.2 kg", "2.5 kg"]
                    if price < 250
                    else ["4.2 kg", "7.5 kg", "12 kg"]
                ),
                category=tags[0],
                list_price=round(price * rng.choice([1.19, 1.25, 1.3, 1.4, 1.5]), 2),
                available_from=date(2025, 1, 1) + timedelta(days=rng.randint(0, 200)),
            )
        )
    return products
