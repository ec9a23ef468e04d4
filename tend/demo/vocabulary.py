"""The fixed word lists the demo generator draws from.

Kept apart from the generator so the shape of the demo (plans, sizes, people) reads at a
glance and the generator stays about sampling.
"""

DOMAIN = "demo.tend.dev"
PASSWORD = "tend-demo"
WORKSPACE_NAME = "Demo"
WORKSPACE_SLUG = "demo"
DEFAULT_SEED = 2026

PLANS = ["Starter", "Growth", "Business", "Enterprise"]
# Yearly list price per licence, per plan: contract value follows plan and size.
PRICE_PER_LICENCE = {"Starter": 180, "Growth": 360, "Business": 540, "Enterprise": 780}

# (label, share of accounts, licence range, plans likely at this size)
COMPANY_SIZES = [
    ("1–50", 0.34, (5, 30), {"Starter": 6, "Growth": 3, "Business": 1}),
    ("51–200", 0.33, (20, 90), {"Starter": 2, "Growth": 5, "Business": 3}),
    ("201–1000", 0.22, (60, 320), {"Growth": 2, "Business": 5, "Enterprise": 3}),
    ("1000+", 0.11, (250, 1500), {"Business": 3, "Enterprise": 7}),
]

REGIONS = {"North America": 0.42, "EMEA": 0.33, "APAC": 0.15, "LATAM": 0.10}

# Each industry's words make company names look like they belong to it.
INDUSTRIES = {
    "Software": ["Software", "Labs", "Systems", "Cloud", "Technologies", "Digital", "Data"],
    "Financial services": ["Capital", "Financial", "Partners", "Payments", "Wealth", "Lending"],
    "Healthcare": ["Health", "Medical", "Care", "Clinics", "Diagnostics", "Therapeutics"],
    "Retail": ["Retail", "Brands", "Outfitters", "Market", "Goods", "Stores"],
    "Manufacturing": ["Manufacturing", "Industries", "Components", "Engineering", "Materials"],
    "Logistics": ["Logistics", "Freight", "Shipping", "Transport", "Supply"],
    "Education": ["Learning", "Academy", "Education", "Schools", "Institute"],
    "Media": ["Media", "Studios", "Publishing", "Broadcasting", "Creative"],
    "Professional services": ["Consulting", "Advisory", "Associates", "Group", "Solutions"],
    "Hospitality": ["Hotels", "Hospitality", "Resorts", "Travel", "Restaurants"],
}

# Invented brand stems, joined in pairs ("Brightpath", "Northwind") for a share of names.
STEMS_A = ["Blue", "Bright", "North", "Silver", "Clear", "Red", "Iron", "Green", "Stone", "Swift", "Sun", "Oak", "River", "Summit", "Cedar", "Harbor", "Pine", "Gold", "Star", "True", "Open", "Wild", "Bold", "Maple", "Ever", "Cobalt", "Amber", "Crystal", "Falcon", "Lunar"]
STEMS_B = ["path", "wind", "peak", "field", "bridge", "line", "stack", "wave", "forge", "point", "gate", "light", "works", "rock", "haven", "ridge", "view", "spring", "brook", "leaf"]

SUBSIDIARY_PLACES = {
    "North America": ["US", "Canada", "West", "East"],
    "EMEA": ["UK", "Germany", "France", "Nordics", "Benelux", "Iberia"],
    "APAC": ["Australia", "Japan", "Singapore", "India"],
    "LATAM": ["Brazil", "Mexico", "Chile", "Colombia"],
}

STATUSES = {"paying": 0.72, "trial": 0.12, "churned": 0.10, "free": 0.06}

STAGES = ["Onboarding", "Adoption", "Value realisation", "Renewal", "Advocate"]
# Where paying accounts sit on the journey; trials onboard, free accounts adopt.
PAYING_STAGE_WEIGHTS = {
    "Onboarding": 1,
    "Adoption": 3,
    "Value realisation": 4,
    "Renewal": 2,
    "Advocate": 1,
}

TAGS = {
    "strategic": "#7c3aed",
    "at risk": "#dc2626",
    "expansion": "#16a34a",
    "reference": "#0284c7",
}

PHONE_FORMATS = {
    "North America": "+1 ###-###-####",
    "EMEA": "+44 20 #### ####",
    "APAC": "+61 2 #### ####",
    "LATAM": "+55 11 #####-####",
}

CONTACT_ROLES = ["Champion", "Economic buyer", "Admin", "Executive sponsor"]
JOB_TITLES = [
    "Analyst",
    "Account Executive",
    "Operations Manager",
    "Product Manager",
    "Engineer",
    "Designer",
    "Support Specialist",
    "Marketing Manager",
    "Finance Manager",
    "Team Lead",
    "Data Scientist",
    "Project Coordinator",
    "HR Partner",
    "Sales Representative",
]

# The people of the demo CS team: (full name, seat, title).
CSMS = [
    "Maya Okafor",
    "Daniel Brooks",
    "Priya Raman",
    "Lucas Fernández",
    "Hannah Weber",
    "Tom Gallagher",
    "Aiko Tanaka",
    "Sofia Costa",
]
SALES_MANAGERS = ["Marcus Reid", "Elena Petrova"]
ADMIN = ("admin", "Jordan Avery", "Head of Customer Success")
VIEWER = ("viewer", "Riley Chen", "VP Finance")
CONTRIBUTOR = ("contributor", "Sam Whitaker", "Associate CSM")
