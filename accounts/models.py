from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from accounts.roles import forget_role, role_of


class UserManager(BaseUserManager["User"]):
    # Migrations see the historical model with a plain manager: they never run this code.
    use_in_migrations = False

    def _create(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("Staff accounts need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractUser):
    """A member of staff. Signs in with an email address; the role is a group."""

    username = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        permissions = [("manage_staff", "Can invite staff, change roles and deactivate accounts")]

    def __str__(self) -> str:
        return self.name or self.email

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        forget_role(self)

    @property
    def role(self) -> str | None:
        return role_of(self)
