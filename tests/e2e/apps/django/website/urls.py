"""One page that links the collected stylesheet."""

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    """Answer with the hashed URL collectstatic gave the stylesheet."""
    return HttpResponse(f"django ok {static('pages/site.css')}")


urlpatterns = [path("", index)]
