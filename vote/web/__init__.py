"""The online ballot: an ASGI app (Starlette) over the register, the box and the ballot paper."""
