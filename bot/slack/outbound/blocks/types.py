"""Shapes shared by every builder."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]
Message = tuple[str, list[Block]]
"""(fallback text for notifications, blocks)."""
