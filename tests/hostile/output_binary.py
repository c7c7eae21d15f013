# ATTACK: emit bytes that are not text: invalid UTF-8 (0xff 0xfe, a lone
# continuation byte, an overlong encoding, a UTF-16 surrogate encoded in
# UTF-8), NUL bytes and terminal escape sequences, on stdout and stderr, to
# break the service's JSON or its HTTP framing.
# MUST HAPPEN: status "ok"; the response is valid JSON; each invalid byte
# becomes U+FFFD, NUL becomes \u0000 and survives, valid text is intact.
import os

os.write(1, b"\xff\xfe\x00ok")
os.write(1, b"|\x80|\xc0\xaf|\xed\xa0\x80|\x1b[2J\x1b]0;title\x07|caf\xc3\xa9|\xf0\x9f\x90\x8d|")
os.write(2, b"err\x00\xff\r\nHTTP/1.1 200 OK\r\n\r\n")
