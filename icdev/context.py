"""Template context shared by the admin and the portal."""

from accountability.selectors.registry import notification_list


def notifications_context(request):
    """The signed-in user's unread notification count (shown in the admin header)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"icdev_unread_notifications": notification_list(user, unread_only=True).count()}
