/* license_svc.h — the parts of zs-license (apis.md §8, seed 004 §4.7), private to svc-license.
 *
 * A license is a file signed by the issuer (Ed25519, common/license.h) whose public key is in
 * license.trusted-keys. Installed licenses are the files of the license directory
 * (installed.h); the store keeps the record of every license ever accepted. With nothing
 * installed the suite runs as Community (no host limit, no expiry).
 *
 *   license_svc.c  the service (zs_license_service) and its state module: the installation
 *                  id, the scan of the directory, host usage polls, expiry events
 *   inventory.c    what is installed and licensed: the read APIs and CheckLicense
 *   admission.c    UpdateLicense, ReloadLicense, DeleteLicense
 *
 * Enforcement: services whose APIs are licensed ask CheckLicense over the bus (the core's
 * AddHost/AddKVMHost/UpdateHost do). The catalog (inventory.c) says which module covers which
 * API; a module is licensed by the primary license (primary modules) and/or by add-ons naming
 * it. This service never calls another service synchronously (the core calls it from its
 * handlers); the host usage it shows is polled from the core without blocking (HostUsage).
 *
 * Events: "license.expiring" {uuid, expiredDate, daysLeft} once when a license in force has
 * 30 days or less left, "license.expired" {uuid} once at expiry (remembered in the store).
 *
 * Everything runs on the service loop thread.
 */
#ifndef ZS_LICENSE_SVC_H
#define ZS_LICENSE_SVC_H
#include "installed.h"
#include "service.h"

#define RECORDS "licenses"
#define META_DB "license-meta"
#define EVENTS_DB "license-events"

extern const zs_resource_t zs_res_license_record;

extern const zs_service_def_t zs_license_service;           /* license_svc.c */
extern const zs_module_t license_state_module;               /* license_svc.c */
extern const zs_module_t license_inventory_module;           /* inventory.c */
extern const zs_module_t license_admission_module;           /* admission.c */

/* The service's state: license_state_module's (its create makes it). */
typedef struct {
    char dir[1024];
    const char *trusted;       /* config, borrowed */
    char installation[33];
    char *request;             /* the licenseRequest of this installation */
    installed_t st;
    json_t *noted;             /* event keys already published ("<uuid>:expired" -> true) */
    zs_bus_t *usage_bus;       /* non-blocking HostUsage polls of the core */
    zsock_t *usage_sock;
    int64_t hosts, cpus;
    bool usage_known;
} lic_t;

static inline lic_t *lic(zs_service_t *svc)
{
    return zs_service_module_state(svc, &license_state_module);
}

/* license_svc.c: reads the license directory again into l->st (a warning when it cannot). */
void lic_rescan(lic_t *l);

/* inventory.c: */
/* Copies member `key` of `from` into `inv` when present. */
void lic_copy(json_t *inv, const json_t *from, const char *key);
/* LicenseInventory of the primary in force, or of Community (new reference). */
json_t *lic_primary_inventory(zs_service_t *svc);
/* LicenseAddOnInventory of an installed add-on (new reference). */
json_t *lic_addon_inventory(zs_service_t *svc, const json_t *a);

#endif
