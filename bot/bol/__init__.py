"""bol.com Retailer API v10 client for the shared process-status resource. Knows nothing of Slack."""
