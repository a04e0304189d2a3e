"""A manager reads their team's trend over every ended wave (the quality officer's figures,
through the same gate), beside the change since the previous wave and since the first: small
multiples drawn on the server, the numbers in a table. Managers see only teams in scope."""

import re
from pathlib import Path

import pytest

from survey.services.comparisons import ended_waves
from tests.conftest import login, logout

PASSWORD = "krachtspiegel-demo"
ANKER = "leiding.anker@huisvankracht.example"
QUALITY = "kwaliteit@huisvankracht.example"


def test_smoke(demo, client):
    login(client, ANKER, PASSWORD)
    reply = client.get("/dashboard/units/team-anker/trend")
    Path("/tmp/g4/trend.html").write_text(reply.get_data(as_text=True))
    assert reply.status_code == 200
    last = ended_waves()[-1]
    reply = client.get(f"/dashboard/waves/{last.id}/teams/team-anker")
    Path("/tmp/g4/team.html").write_text(reply.get_data(as_text=True))
    assert reply.status_code == 200
    logout(client)
    login(client, QUALITY, PASSWORD)
    reply = client.get("/dashboard/departments/ggz")
    Path("/tmp/g4/dept.html").write_text(reply.get_data(as_text=True))
    assert reply.status_code == 200
