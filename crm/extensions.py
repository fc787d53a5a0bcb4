"""Extensions, created once here and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


def _rate_limit_key() -> str:
    from crm.api.auth import rate_limit_key

    return rate_limit_key()


limiter = Limiter(key_func=_rate_limit_key, default_limits=[])
