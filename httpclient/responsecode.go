package httpclient

// Godot's HTTPClient.ResponseCode constants (§1.2): each value is the HTTP
// status code. They are only names; the client treats no code specially
// (§1.2, except the CONNECT reply of an HTTPS proxy, §1.14.2 with §7 D5).
const (
	ResponseContinue                     = 100 // Godot: HTTPClient.RESPONSE_CONTINUE
	ResponseSwitchingProtocols           = 101 // Godot: HTTPClient.RESPONSE_SWITCHING_PROTOCOLS
	ResponseProcessing                   = 102 // Godot: HTTPClient.RESPONSE_PROCESSING
	ResponseOK                           = 200 // Godot: HTTPClient.RESPONSE_OK
	ResponseCreated                      = 201 // Godot: HTTPClient.RESPONSE_CREATED
	ResponseAccepted                     = 202 // Godot: HTTPClient.RESPONSE_ACCEPTED
	ResponseNonAuthoritativeInformation  = 203 // Godot: HTTPClient.RESPONSE_NON_AUTHORITATIVE_INFORMATION
	ResponseNoContent                    = 204 // Godot: HTTPClient.RESPONSE_NO_CONTENT
	ResponseResetContent                 = 205 // Godot: HTTPClient.RESPONSE_RESET_CONTENT
	ResponsePartialContent               = 206 // Godot: HTTPClient.RESPONSE_PARTIAL_CONTENT
	ResponseMultiStatus                  = 207 // Godot: HTTPClient.RESPONSE_MULTI_STATUS
	ResponseAlreadyReported              = 208 // Godot: HTTPClient.RESPONSE_ALREADY_REPORTED
	ResponseIMUsed                       = 226 // Godot: HTTPClient.RESPONSE_IM_USED
	ResponseMultipleChoices              = 300 // Godot: HTTPClient.RESPONSE_MULTIPLE_CHOICES
	ResponseMovedPermanently             = 301 // Godot: HTTPClient.RESPONSE_MOVED_PERMANENTLY
	ResponseFound                        = 302 // Godot: HTTPClient.RESPONSE_FOUND
	ResponseSeeOther                     = 303 // Godot: HTTPClient.RESPONSE_SEE_OTHER
	ResponseNotModified                  = 304 // Godot: HTTPClient.RESPONSE_NOT_MODIFIED
	ResponseUseProxy                     = 305 // Godot: HTTPClient.RESPONSE_USE_PROXY
	ResponseSwitchProxy                  = 306 // Godot: HTTPClient.RESPONSE_SWITCH_PROXY
	ResponseTemporaryRedirect            = 307 // Godot: HTTPClient.RESPONSE_TEMPORARY_REDIRECT
	ResponsePermanentRedirect            = 308 // Godot: HTTPClient.RESPONSE_PERMANENT_REDIRECT
	ResponseBadRequest                   = 400 // Godot: HTTPClient.RESPONSE_BAD_REQUEST
	ResponseUnauthorized                 = 401 // Godot: HTTPClient.RESPONSE_UNAUTHORIZED
	ResponsePaymentRequired              = 402 // Godot: HTTPClient.RESPONSE_PAYMENT_REQUIRED
	ResponseForbidden                    = 403 // Godot: HTTPClient.RESPONSE_FORBIDDEN
	ResponseNotFound                     = 404 // Godot: HTTPClient.RESPONSE_NOT_FOUND
	ResponseMethodNotAllowed             = 405 // Godot: HTTPClient.RESPONSE_METHOD_NOT_ALLOWED
	ResponseNotAcceptable                = 406 // Godot: HTTPClient.RESPONSE_NOT_ACCEPTABLE
	ResponseProxyAuthenticationRequired  = 407 // Godot: HTTPClient.RESPONSE_PROXY_AUTHENTICATION_REQUIRED
	ResponseRequestTimeout               = 408 // Godot: HTTPClient.RESPONSE_REQUEST_TIMEOUT
	ResponseConflict                     = 409 // Godot: HTTPClient.RESPONSE_CONFLICT
	ResponseGone                         = 410 // Godot: HTTPClient.RESPONSE_GONE
	ResponseLengthRequired               = 411 // Godot: HTTPClient.RESPONSE_LENGTH_REQUIRED
	ResponsePreconditionFailed           = 412 // Godot: HTTPClient.RESPONSE_PRECONDITION_FAILED
	ResponseRequestEntityTooLarge        = 413 // Godot: HTTPClient.RESPONSE_REQUEST_ENTITY_TOO_LARGE
	ResponseRequestURITooLong            = 414 // Godot: HTTPClient.RESPONSE_REQUEST_URI_TOO_LONG
	ResponseUnsupportedMediaType         = 415 // Godot: HTTPClient.RESPONSE_UNSUPPORTED_MEDIA_TYPE
	ResponseRequestedRangeNotSatisfiable = 416 // Godot: HTTPClient.RESPONSE_REQUESTED_RANGE_NOT_SATISFIABLE
	ResponseExpectationFailed            = 417 // Godot: HTTPClient.RESPONSE_EXPECTATION_FAILED
	ResponseImATeapot                    = 418 // Godot: HTTPClient.RESPONSE_IM_A_TEAPOT
	ResponseMisdirectedRequest           = 421 // Godot: HTTPClient.RESPONSE_MISDIRECTED_REQUEST
	ResponseUnprocessableEntity          = 422 // Godot: HTTPClient.RESPONSE_UNPROCESSABLE_ENTITY
	ResponseLocked                       = 423 // Godot: HTTPClient.RESPONSE_LOCKED
	ResponseFailedDependency             = 424 // Godot: HTTPClient.RESPONSE_FAILED_DEPENDENCY
	ResponseUpgradeRequired              = 426 // Godot: HTTPClient.RESPONSE_UPGRADE_REQUIRED
	ResponsePreconditionRequired         = 428 // Godot: HTTPClient.RESPONSE_PRECONDITION_REQUIRED
	ResponseTooManyRequests              = 429 // Godot: HTTPClient.RESPONSE_TOO_MANY_REQUESTS
	ResponseRequestHeaderFieldsTooLarge  = 431 // Godot: HTTPClient.RESPONSE_REQUEST_HEADER_FIELDS_TOO_LARGE
	ResponseUnavailableForLegalReasons   = 451 // Godot: HTTPClient.RESPONSE_UNAVAILABLE_FOR_LEGAL_REASONS
	ResponseInternalServerError          = 500 // Godot: HTTPClient.RESPONSE_INTERNAL_SERVER_ERROR
	ResponseNotImplemented               = 501 // Godot: HTTPClient.RESPONSE_NOT_IMPLEMENTED
	ResponseBadGateway                   = 502 // Godot: HTTPClient.RESPONSE_BAD_GATEWAY
	ResponseServiceUnavailable           = 503 // Godot: HTTPClient.RESPONSE_SERVICE_UNAVAILABLE
	ResponseGatewayTimeout               = 504 // Godot: HTTPClient.RESPONSE_GATEWAY_TIMEOUT
	ResponseHTTPVersionNotSupported      = 505 // Godot: HTTPClient.RESPONSE_HTTP_VERSION_NOT_SUPPORTED
	ResponseVariantAlsoNegotiates        = 506 // Godot: HTTPClient.RESPONSE_VARIANT_ALSO_NEGOTIATES
	ResponseInsufficientStorage          = 507 // Godot: HTTPClient.RESPONSE_INSUFFICIENT_STORAGE
	ResponseLoopDetected                 = 508 // Godot: HTTPClient.RESPONSE_LOOP_DETECTED
	ResponseNotExtended                  = 510 // Godot: HTTPClient.RESPONSE_NOT_EXTENDED
	ResponseNetworkAuthRequired          = 511 // Godot: HTTPClient.RESPONSE_NETWORK_AUTH_REQUIRED
)
