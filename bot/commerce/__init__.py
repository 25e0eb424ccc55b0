"""HCL Commerce (WebSphere Commerce) REST client for approval_status. Knows nothing of Slack."""
