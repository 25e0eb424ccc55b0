"""Ids that tie the posted Block Kit to the listeners that handle it."""

from __future__ import annotations

APPROVE_ACTION_ID = "approval_approve"
REJECT_ACTION_ID = "approval_reject"
APPROVAL_ACTIONS_BLOCK_PREFIX = "approval_actions:"
REJECT_MODAL_CALLBACK_ID = "reject_modal"
REASON_BLOCK_ID = "reject_reason"
REASON_ACTION_ID = "reason_input"
HOME_NEWER_ACTION_ID = "home_page_newer"
HOME_OLDER_ACTION_ID = "home_page_older"
"""App Home pager buttons; their value is the page number to show."""
DETAILS_ACTION_ID = "approval_details"
"""The Details button on a card and on the App Home; its value is the approval id."""
DETAILS_MODAL_CALLBACK_ID = "approval_details"
DETAILS_PAGE_ACTION_ID = "details_page"
"""The Details modal's pager; its value is ``approval_id:page``."""
DETAILS_PAGER_BLOCK_ID = "details_pager"
