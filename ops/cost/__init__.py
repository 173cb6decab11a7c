"""BrightCart monthly cost model (prices in prices.yaml, quantities from the CDK parameters)."""
