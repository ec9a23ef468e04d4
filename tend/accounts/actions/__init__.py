"""Every change to customer data: one module per concept (accounts, people, definitions)."""
