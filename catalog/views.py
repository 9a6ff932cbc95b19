from django.views.generic import View


class _Pending(View):
    pass


ModelListView = ModelDetailView = VersionDetailView = DatasetListView = DatasetDetailView = _Pending
DomainListView = DomainDetailView = _Pending
