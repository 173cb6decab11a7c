"""BrightCart production infrastructure: CDK constructs and the parameters the cost model shares."""
