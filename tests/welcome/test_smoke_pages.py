def test_wn1_pages_render(admin, welcome):
    for path in ("/configurer/numeros-accueil", f"/configurer/numeros-accueil/{welcome.id}",
                 f"/configurer/numeros-accueil/{welcome.id}/profils/nouveau",
                 "/standard", f"/configurer/statistiques/{welcome.id}"):
        r = admin.client.get(path)
        assert r.status_code == 200, (path, r.data[-3000:])
