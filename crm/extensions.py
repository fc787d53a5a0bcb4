"""Extensions, created once here and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from crm import limits_memory  # noqa: F401 - registers the crm-memory:// storage
from crm.credentials import rate_limit_key


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=rate_limit_key, default_limits=[])
