"""The dashboard's settings for the test run: the real ones, with a password hasher made for speed.

Every test that signs someone in hashes a password; PBKDF2's 1,000,000 rounds are what a real server
needs and what a test suite does not.
"""

from fileflare_admin.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
