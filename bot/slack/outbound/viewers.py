"""Who may list and show approvals: VIEWERS (user and user-group ids) and every approver (of any route).

Empty VIEWERS means everyone in the workspace may. Fails closed like the approver list: a group that
cannot be read has no viewers in it.
"""

from __future__ import annotations

from bot.slack.outbound.approvers import RoutedApproverDirectory, SlackApproverDirectory

VIEWERS_REFUSAL = (
    "You may not list or show approvals. Ask whoever runs the bot to add you (or a user group of yours) "
    "to VIEWERS."
)


class SlackViewerDirectory:
    def __init__(self, viewers: SlackApproverDirectory, approvers: RoutedApproverDirectory) -> None:
        self._viewers = viewers
        self._approvers = approvers

    async def may_view(self, user_id: str) -> bool:
        if not self._viewers.configured:
            return True
        return await self._viewers.includes(user_id) or await self._approvers.includes(user_id)
