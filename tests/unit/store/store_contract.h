/* store_contract.h - the behaviour every store backend must have, as cmocka
 * cases. A backend's test file includes store_contract.c (it is not named
 * test_*, so the build does not make it a program of its own) and calls one of
 * the runners from main. */
#ifndef TESSERA_TESTS_STORE_CONTRACT_H
#define TESSERA_TESTS_STORE_CONTRACT_H

#include "store/store.h"

/* Runs every single-handle case as the cmocka group backend_name. open_fresh
 * returns a new handle on a new, empty database (each case migrates it and
 * closes it). The cases that need a second handle are skipped. Returns the
 * number of failed cases. */
int store_contract_run(const char *backend_name, store *(*open_fresh)(void));

/* The same, plus the cases with two handles on one database: open_peer returns
 * another handle on the database most recently created by open_fresh. */
int store_contract_run_peers(const char *backend_name, store *(*open_fresh)(void),
                             store *(*open_peer)(void));

#endif
