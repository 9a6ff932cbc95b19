from django.shortcuts import render

from catalog.models import RegisteredModel


def floor(request):
    """The cheapest page the portal can serve: the site layout (session, user, roles, navigation) and one
    query by a unique index. Every other page is compared with this one."""
    model = (
        RegisteredModel.objects.filter(name=request.GET.get("name", ""))
        .values("name", "lifecycle", "version_count")
        .first()
    )
    return render(request, "benchmarks/floor.html", {"model": model})
