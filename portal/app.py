"""The portal's application: its routes, the security headers on every response, and French answers for every
error a person can meet (never a traceback)."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException  # FastAPI's is a subclass; routing raises this one

from models.db import StoreUnavailable
from models.driver import DriverError
from models.errors import InvalidInput, NotFound, Refused, told
from portal import api, audit, breach, incidents, signin, tokens
from portal.security import GuardedRequests, SecurityHeaders
from portal.web import NEXT_COOKIE, CsrfRefused, SignInRequired, render, served_over_https
from settings.env import SettingsError
from settings.parties import PartiesConfigError

STATIC = Path(__file__).resolve().parent / "static"


def create_app() -> FastAPI:
    app = FastAPI(title="Portail des incidents de sécurité de l'ENT", version="1",
                  description="API des commandes et lectures du moteur, pour les applications munies d'un jeton "
                              "d'accès personnel (en-tête `Authorization: Bearer …`).",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", redirect_slashes=False)
    app.add_middleware(GuardedRequests)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (signin, incidents, breach, audit, tokens, api):
        app.include_router(module.router)
    app.add_api_route("/api", _api_page, include_in_schema=False)
    _errors(app)
    return app


def _api_page(request: Request) -> Response:
    schema = request.app.openapi()
    operations = [(method.upper(), path, operation.get("summary", ""))
                  for path, methods in schema["paths"].items() for method, operation in methods.items()]
    return render(request, "api.html.j2", {"operations": operations})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, _error: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Jeton d'accès manquant, invalide ou révoqué."}, status_code=401,
                                headers={"www-authenticate": "Bearer"})
        response = RedirectResponse("/connexion", status_code=303)
        if request.method == "GET":  # back to the page a mailed link opened, once signed in
            response.set_cookie(NEXT_COOKIE, request.url.path, httponly=True, samesite="lax", max_age=1800,
                                secure=served_over_https(request), path="/")
        return response

    @app.exception_handler(CsrfRefused)
    def csrf_refused(request: Request, _error: Exception) -> Response:
        return render(request, "error.html.j2", {
            "title": "Formulaire refusé", "message": "Ce formulaire a expiré ou ne vient pas de ce portail : "
                                                     "rechargez la page et recommencez."}, status=403)

    @app.exception_handler(NotFound)
    def not_found(request: Request, error: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(error)}, status_code=404)
        return render(request, "error.html.j2", {"title": "Introuvable", "message": str(error)}, status=404)

    @app.exception_handler(Refused)
    def refused(request: Request, error: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(error)}, status_code=403)
        return render(request, "error.html.j2", {"title": "Action refusée", "message": str(error)}, status=403)

    @app.exception_handler(InvalidInput)
    def invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, InvalidInput)
        errors = [{"champ": item.field, "message": item.message} for item in error.errors]
        if _is_api(request):
            return JSONResponse({"detail": "Refusé, rien n'a été enregistré.", "erreurs": errors}, status_code=422)
        return render(request, "error.html.j2", {"title": "Saisie refusée", "message": "Rien n'a été enregistré.",
                                                 "items": [str(item) for item in error.errors]}, status=400)

    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [{"champ": ".".join(str(part) for part in item["loc"]), "message": "valeur non valide"}
                  for item in error.errors()]
        return JSONResponse({"detail": "Requête mal formée.", "erreurs": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        # Never the framework's own (English) detail: a fixed French message per status.
        messages = {400: "Formulaire ou requête illisible (trop de champs, fichier en trop, encodage) : rechargez la "
                         "page et recommencez.",
                    404: "Cette page n'existe pas.", 405: "Méthode non permise pour cette adresse.",
                    413: "Envoi trop volumineux."}
        message = messages.get(error.status_code, "Requête refusée.")
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=error.status_code)
        return render(request, "error.html.j2", {"title": "Erreur", "message": message}, status=error.status_code)

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(DriverError)  # the plain reads' (models.driver), without the ORM's wrapper
    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(SettingsError)
    @app.exception_handler(PartiesConfigError)
    def unavailable(request: Request, error: Exception) -> Response:
        # Never the driver's detail: it may quote stored values.
        message = told(error) if isinstance(error, SQLAlchemyError | DriverError) else str(error)
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=503)
        return render(request, "error.html.j2", {"title": "Service indisponible", "message": message}, status=503)
