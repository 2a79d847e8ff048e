/* mime.h - Content-Type by file name extension. */
#ifndef TESSERA_CORE_MIME_H
#define TESSERA_CORE_MIME_H

/* A static string; "application/octet-stream" when the extension is unknown. */
const char *mime_type_for(const char *path);

#endif
