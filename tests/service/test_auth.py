from service.models import Role, User
from service.passwords import hash_password
from tests.conftest import csrf_token, login


def _user(db_session, email="s@example.edu", password="correct horse", role=Role.student):
    user = User(email=email, name="S", role=role, password_hash=hash_password(password))
    db_session.add(user)
    db_session.commit()
    return user


def test_password_is_stored_hashed(db_session):
    user = _user(db_session)
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse" not in user.password_hash


def test_login_and_logout(client, db_session):
    _user(db_session)
    response = login(client, "s@example.edu", "correct horse")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    token = csrf_token(page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(client, db_session):
    _user(db_session)
    response = login(client, "s@example.edu", "wrong")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_400(client, db_session):
    _user(db_session)
    response = client.post("/login", data={"email": "s@example.edu", "password": "correct horse"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_open_redirect_is_refused(client, db_session):
    _user(db_session)
    page = client.get("/login?next=//evil.example/x")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": "s@example.edu", "password": "correct horse", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite(client, db_session):
    _user(db_session)
    response = login(client, "s@example.edu", "correct horse")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, db_session):
    _user(db_session)
    page = client.get("/login", base_url="https://mixgrade.example")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/login",
        base_url="https://mixgrade.example",
        data={"email": "s@example.edu", "password": "correct horse", "csrf_token": token},
    )
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert "Secure" in session_cookie


def test_repeated_wrong_passwords_are_rate_limited(client, db_session):
    _user(db_session)
    for _ in range(5):
        assert login(client, "s@example.edu", "wrong").status_code == 401
    response = login(client, "s@example.edu", "correct horse")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
