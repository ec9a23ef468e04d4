from tend.test import PASSWORD


def test_a_member_logs_in_with_email_and_password(owner):
    from django.test import Client

    client = Client()
    response = client.post("/login/", {"username": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_a_wrong_password_is_refused(owner):
    from django.test import Client

    response = Client().post("/login/", {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_pages_need_a_login(db):
    from django.test import Client

    response = Client().get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
