"""The service layer's HTTP clients: the only code in the dashboard that imports `requests`."""
