"""Real telephony: Kamailio registrar/proxy (`python -m pbx.sip`) and the
pjsua2 media connector (`python -m pbx`), the PBX side of docs/protocol.md.
See docs/telephony.md."""
