"""JSON views the end-to-end tests call over HTTP (all csrf-exempt, all answer JSON).

    POST /login/            {"username", "password"} (JSON or form) -> auth.login; 401 if refused
    POST /logout/           auth.logout
    GET  /whoami/           {"user_id": "1"|null, "username", "authenticated", "session_key"}
    POST /change-password/  {"password"} -> set_password + update_session_auth_hash; 401 if anonymous
    GET  /session/          the session dict in the normal form (djs.normal)
    POST /session/          {"set": {...}, "delete": [...], "set_expiry": int|null, "flush": bool}
"""
import json

from django.contrib import auth
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from djs import normal


def _body(request):
    if request.content_type == "application/json":
        try:
            return json.loads(request.body or b"{}")
        except ValueError:
            return {}
    return request.POST.dict()


def _who(request):
    user = request.user
    return {
        "user_id": str(user.pk) if user.is_authenticated else None,
        "username": user.get_username() if user.is_authenticated else None,
        "authenticated": bool(user.is_authenticated),
        "session_key": request.session.session_key,
    }


@csrf_exempt
def login_view(request):
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    body = _body(request)
    user = auth.authenticate(request, username=body.get("username"), password=body.get("password"))
    if user is None:
        return JsonResponse({"error": "invalid credentials"}, status=401)
    auth.login(request, user)
    return JsonResponse(_who(request))


@csrf_exempt
def logout_view(request):
    auth.logout(request)
    return JsonResponse({"ok": True})


def whoami(request):
    return JsonResponse(_who(request))


@csrf_exempt
def change_password(request):
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not logged in"}, status=401)
    request.user.set_password(_body(request).get("password", ""))
    request.user.save()
    auth.update_session_auth_hash(request, request.user)
    return JsonResponse(_who(request))


@csrf_exempt
def session_view(request):
    if request.method == "POST":
        body = _body(request)
        if body.get("flush"):
            request.session.flush()
        for key, value in (body.get("set") or {}).items():
            request.session[key] = value
        for key in body.get("delete") or []:
            request.session.pop(key, None)
        if "set_expiry" in body:
            request.session.set_expiry(body["set_expiry"])
    data = {k: request.session[k] for k in request.session.keys()}
    return JsonResponse({"session_key": request.session.session_key, "data": normal(data)})
