"""An emulator of the Salesforce REST API, backed by the source database."""
