"""Portal pages (Django templates) for reviewers, board members and appellants."""
