"""The web side: public pages (unsubscribe, subscribe, archive), the admin area and the JSON API."""
