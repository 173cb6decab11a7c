"""Fixed vocabularies the generator draws from: names, places, categories, campaigns."""

from __future__ import annotations

from decimal import Decimal

FIRST_NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xenia",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Martin",
    "Nguyen",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Visser",
    "Weber",
    "Young",
    "Zhang",
)
# country -> (cities, currency, tax rate, locale, weight)
COUNTRIES: dict[str, tuple[tuple[str, ...], str, Decimal, str, int]] = {
    "US": (("New York", "Austin", "Seattle", "Chicago"), "USD", Decimal("0.0725"), "en-US", 40),
    "GB": (("London", "Leeds", "Bristol"), "GBP", Decimal("0.2000"), "en-GB", 15),
    "DE": (("Berlin", "Hamburg", "Munich"), "EUR", Decimal("0.1900"), "de-DE", 15),
    "FR": (("Paris", "Lyon", "Nantes"), "EUR", Decimal("0.2000"), "fr-FR", 10),
    "NL": (("Amsterdam", "Utrecht"), "EUR", Decimal("0.2100"), "nl-NL", 8),
    "CA": (("Toronto", "Vancouver", "Montreal"), "CAD", Decimal("0.1300"), "en-CA", 12),
}
COUNTRY_CODES = tuple(COUNTRIES)
COUNTRY_WEIGHTS = tuple(v[4] for v in COUNTRIES.values())

CATEGORIES: dict[str, tuple[tuple[str, ...], int, int]] = {
    # category -> (nouns, min price, max price)
    "electronics": (("Headphones", "Charger", "Speaker", "Keyboard", "Webcam"), 15, 400),
    "home": (("Lamp", "Throw", "Vase", "Cushion", "Clock"), 8, 150),
    "fashion": (("Jacket", "Sneakers", "Scarf", "Backpack", "Watch"), 10, 250),
    "beauty": (("Serum", "Perfume", "Brush Set", "Face Mask"), 5, 90),
    "sports": (("Yoga Mat", "Dumbbell", "Bottle", "Running Vest"), 6, 180),
    "toys": (("Puzzle", "Robot Kit", "Plush Bear", "Board Game"), 5, 80),
}
ADJECTIVES = ("Classic", "Eco", "Pro", "Mini", "Smart", "Deluxe", "Urban", "Nordic", "Bold")
SELLER_WORDS = ("Goods", "Supply", "Works", "Collective", "Trading", "Studio", "Outlet", "House")

CHANNELS = ("web", "ios", "android")
CHANNEL_WEIGHTS = (55, 25, 20)
USER_AGENTS = {
    "web": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    "ios": (
        "BrightCart/7.4.1 (iPhone15,3; iOS 18.1; Scale/3.00) CFNetwork/1568.200.51 Darwin/24.1.0",
    ),
    "android": (
        "BrightCart/7.4.0 (Linux; Android 15; Pixel 9 Build/AP3A.241105.007) okhttp/4.12.0",
    ),
}
APP_VERSIONS = {"web": "web-2026.11.2", "ios": "7.4.1", "android": "7.4.0"}
REFERRERS = (
    "https://www.google.com/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://t.co/",
    "",
    "https://news.example.org/gift-guide",
)

# Marketing campaigns: (utm_campaign stem, utm_source, utm_medium, type)
CAMPAIGN_TEMPLATES = (
    ("black_friday", "google", "cpc", "Paid Search"),
    ("holiday_gifts", "facebook", "paid_social", "Paid Social"),
    ("winter_sale", "instagram", "paid_social", "Paid Social"),
    ("brand_search", "google", "cpc", "Paid Search"),
    ("newsletter", "email", "email", "Email"),
    ("retargeting", "facebook", "display", "Display"),
    ("tiktok_creators", "tiktok", "paid_social", "Paid Social"),
    ("shopping_feed", "google", "shopping", "Paid Search"),
)
UTM_CONTENTS = ("hero_banner", "carousel", "video_15s", "text_ad", "story")
UTM_TERMS = ("gifts", "headphones", "sneakers", "home decor", "deals", None)

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted")
LEAD_SOURCES = ("Web", "Partner Referral", "Trade Show", "Advertisement")
OPPORTUNITY_STAGES = ("Prospecting", "Qualification", "Negotiation/Review", "Closed Won")
REFUND_REASONS = (
    "damaged_in_transit",
    "wrong_size",
    "not_as_described",
    "changed_mind",
    "late_delivery",
)
