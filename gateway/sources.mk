# The gateway's sources but main.c, for every Makefile that builds them
# (gateway/Makefile, fuzz/Makefile), from the bottom floor up: parsers and
# settings; errors, pool, authentication; the database call; replies and
# body intake; the resources; libmicrohttpd's callbacks.
PI_GATEWAY_SRCS = assets.c config.c http_parse.c i18n.c session.c error.c db.c auth.c statements.c replica.c \
	partitions.c call.c \
	reply.c intake.c res_image.c res_info.c res_session.c res_page.c resources.c lifecycle.c
PI_GATEWAY_HDRS = gateway.h call.h request.h resources.h lifecycle.h
PI_GATEWAY_LIBS = -lmicrohttpd -lpq -ljwt -ljansson -lcrypto -lpthread
