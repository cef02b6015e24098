"""First checks that the foundation stands up."""

import subprocess
import sys


def test_models_import_without_flask():
    code = "import sys, webapp.models; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_acc1_demo_admin_signs_in_with_emailed_code(demo, browser):
    response = browser.sign_in(demo.admin_email, demo.password)
    assert response.headers["Location"] == "/"
    page = browser.client.get("/")
    assert page.status_code == 200
    assert "Tableau de bord" in page.get_data(as_text=True)
