urlpatterns: list = []  # filled in by the API work
