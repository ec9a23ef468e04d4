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
PRICE_PER_LICENCE = {"Starter": 480, "Growth": 900, "Business": 1500, "Enterprise": 2400}
STARTER_MAX_LICENCES = 10

# (label, share of accounts, licence range, plans likely at this size). Licences are seats of
# the product (a team inside the company, not every employee), sized so that the demo's
# ~5,000 end users fill most of them: licence utilisation then reads like a real base.
COMPANY_SIZES = [
    ("1–50", 0.34, (2, 8), {"Starter": 6, "Growth": 3, "Business": 1}),
    ("51–200", 0.33, (5, 15), {"Starter": 2, "Growth": 5, "Business": 3}),
    ("201–1000", 0.22, (10, 30), {"Growth": 2, "Business": 5, "Enterprise": 3}),
    ("1000+", 0.11, (25, 80), {"Business": 3, "Enterprise": 7}),
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
STEMS_A = [
    "Blue",
    "Bright",
    "North",
    "Silver",
    "Clear",
    "Red",
    "Iron",
    "Green",
    "Stone",
    "Swift",
    "Sun",
    "Oak",
    "River",
    "Summit",
    "Cedar",
    "Harbor",
    "Pine",
    "Gold",
    "Star",
    "True",
    "Open",
    "Wild",
    "Bold",
    "Maple",
    "Ever",
    "Cobalt",
    "Amber",
    "Crystal",
    "Falcon",
    "Lunar",
]
STEMS_B = [
    "path",
    "wind",
    "peak",
    "field",
    "bridge",
    "line",
    "stack",
    "wave",
    "forge",
    "point",
    "gate",
    "light",
    "works",
    "rock",
    "haven",
    "ridge",
    "view",
    "spring",
    "brook",
    "leaf",
]

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

# --- The product the demo customers use (tend.demo.usage) ------------------------------------

# Every session opens with this activity, which carries the session's length as its duration.
LOGIN = "Logged in"
# module → {activity: how often it is done, relative to the module's other activities}.
PRODUCT = {
    "Dashboards": {
        "Viewed dashboard": 40,
        "Edited dashboard": 6,
        "Filtered dashboard": 8,
        "Created dashboard": 2,
        "Shared dashboard": 2,
    },
    "Reports": {"Ran report": 14, "Viewed report": 10, "Exported report": 4, "Scheduled report": 1},
    "Alerts": {"Viewed alert": 6, "Acknowledged alert": 3, "Created alert": 1},
    "Integrations": {"Synced data source": 3, "Viewed sync log": 2, "Connected integration": 0.05},
    "Collaboration": {"Commented": 4, "Mentioned teammate": 1.5, "Resolved comment": 1},
}
# What administrators do now and then, besides inviting the people who join their account.
ADMIN_MODULE = "Admin"
INVITED_USER = "Invited user"
ADMIN_ACTIVITIES = {"Changed permissions": 3, "Updated billing details": 1, "Created team": 2}
# module → (share of accounts that use it at all, extra share on Business and Enterprise,
# its share of what people do once adopted): everyone looks at dashboards, fewer set alerts.
MODULE_ADOPTION = {
    "Dashboards": (1.0, 0.0, 0.42),
    "Reports": (0.8, 0.15, 0.25),
    "Collaboration": (0.55, 0.2, 0.12),
    "Alerts": (0.45, 0.3, 0.11),
    "Integrations": (0.3, 0.45, 0.1),
}
EXPORT_FORMATS = {"csv": 5, "xlsx": 3, "pdf": 2}
INTEGRATIONS = ["Salesforce", "HubSpot", "Snowflake", "BigQuery", "Slack", "Zendesk"]

# UTC offsets (hours) the accounts of a region work in: working hours are local.
REGION_UTC_OFFSETS = {
    "North America": [-5, -5, -6, -8],
    "EMEA": [0, 1, 1, 2],
    "APAC": [8, 9, 10, 5],
    "LATAM": [-3, -3, -5, -6],
}
# Relative activity by local hour (0–23): mornings and afternoons, a lunch dip, a few late nights.
HOUR_WEIGHTS = [
    0.02,
    0.01,
    0.01,
    0.01,
    0.02,
    0.05,
    0.15,
    0.45,
    1.0,
    1.5,
    1.6,
    1.4,
    0.9,
    1.2,
    1.5,
    1.4,
    1.1,
    0.7,
    0.35,
    0.2,
    0.15,
    0.12,
    0.08,
    0.04,
]
