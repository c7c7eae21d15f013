/* app.c - error enum texts. */
#include "app.h"

static const struct {
    const char *code;
    const char *text;
} app_errors[APP_ERR_COUNT_] = {
    [APP_OK] = {"ok", "success"},
    [APP_ENOMEM] = {"out_of_memory", "the server ran out of memory"},
    [APP_EJSON] = {"invalid_json", "the request body is not valid JSON"},
    [APP_EFIELD] = {"invalid_field", "a request field is missing or invalid"},
    [APP_EUTF8] = {"invalid_utf8", "the request contains bytes that are not valid UTF-8"},
    [APP_ETOOBIG] = {"payload_too_large", "the request exceeds a size limit"},
    [APP_EMEDIA] = {"unsupported_media_type", "the Content-Type is not accepted here"},
    [APP_ENOTFOUND] = {"not_found", "no such resource"},
    [APP_EMETHOD] = {"method_not_allowed", "the method is not allowed on this resource"},
    [APP_EUNAVAIL] = {"engine_unavailable", "the execution engine is not available"},
    [APP_EBUSY] = {"busy", "the service is at capacity; retry later"},
    [APP_ETIMEOUT] = {"upstream_timeout", "a backend did not answer in time"},
    [APP_EUPSTREAM] = {"upstream_error", "a backend returned an unusable answer"},
    [APP_ECONFIG] = {"configuration_error", "the service is misconfigured"},
    [APP_EREFUSED] = {"refused", "no engine is allowed to run this request"},
    [APP_EJAIL] = {"jail_error", "the sandbox could not be set up"},
    [APP_EDB] = {"database_error", "the statistics store failed"},
    [APP_EIO] = {"io_error", "a system call failed"},
    [APP_EINTERNAL] = {"internal_error", "internal error"},
    [APP_ECLIENT_LIMIT] = {"client_limit",
                           "this client already has as many jobs in progress as it may; retry when "
                           "one finishes"},
    [APP_EGONE] = {"client_gone", "the client went away"},
    [APP_ECONFLICT] = {"conflict", "the resource's current state does not allow this"},
    [APP_EENDED] = {"ended", "the resource has ended; its state is lost"},
};

const char *app_strerror(app_err err)
{
    if ((unsigned)err >= APP_ERR_COUNT_)
        return "unknown error";
    return app_errors[err].text;
}

const char *app_errcode(app_err err)
{
    if ((unsigned)err >= APP_ERR_COUNT_)
        return "internal_error";
    return app_errors[err].code;
}
