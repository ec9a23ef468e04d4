"""Every change to usage data: ingestion (one write path for every wire format), settings,
and housekeeping. One module per concept."""
