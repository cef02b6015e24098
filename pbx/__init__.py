"""Real telephony (issue 14): Kamailio registrar/proxy (`python -m pbx.sip`) and the
pjsua2 media connector (`python -m pbx`), the PBX side of PROTOCOL.md. See docs/telephony.md."""
