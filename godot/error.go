package godot

import (
	"errors"
	"strconv"
)

// Error is Godot's global Error enum (core/error/error_list.h) with Godot's
// numbers. OK (0) is represented by a nil error and never appears as a value.
//
// An Error is comparable and usable with errors.Is; detail travels in a
// *CodeError, whose Unwrap returns both the Error and the real cause, so
//
//	errors.Is(err, godot.ErrCantConnect) // the Godot code
//	errors.As(err, &dnsErr)             // the cause
//	errors.As(err, &code)               // code is a godot.Error
//
// all work on the same value.
//
// Godot: @GlobalScope.Error
type Error int

// Godot's Error values, in Godot's order and with Godot's numbers.
const (
	Failed                     Error = 1  // Godot: FAILED
	ErrUnavailable             Error = 2  // Godot: ERR_UNAVAILABLE
	ErrUnconfigured            Error = 3  // Godot: ERR_UNCONFIGURED
	ErrUnauthorized            Error = 4  // Godot: ERR_UNAUTHORIZED
	ErrParameterRangeError     Error = 5  // Godot: ERR_PARAMETER_RANGE_ERROR
	ErrOutOfMemory             Error = 6  // Godot: ERR_OUT_OF_MEMORY
	ErrFileNotFound            Error = 7  // Godot: ERR_FILE_NOT_FOUND
	ErrFileBadDrive            Error = 8  // Godot: ERR_FILE_BAD_DRIVE
	ErrFileBadPath             Error = 9  // Godot: ERR_FILE_BAD_PATH
	ErrFileNoPermission        Error = 10 // Godot: ERR_FILE_NO_PERMISSION
	ErrFileAlreadyInUse        Error = 11 // Godot: ERR_FILE_ALREADY_IN_USE
	ErrFileCantOpen            Error = 12 // Godot: ERR_FILE_CANT_OPEN
	ErrFileCantWrite           Error = 13 // Godot: ERR_FILE_CANT_WRITE
	ErrFileCantRead            Error = 14 // Godot: ERR_FILE_CANT_READ
	ErrFileUnrecognized        Error = 15 // Godot: ERR_FILE_UNRECOGNIZED
	ErrFileCorrupt             Error = 16 // Godot: ERR_FILE_CORRUPT
	ErrFileMissingDependencies Error = 17 // Godot: ERR_FILE_MISSING_DEPENDENCIES
	ErrFileEOF                 Error = 18 // Godot: ERR_FILE_EOF
	ErrCantOpen                Error = 19 // Godot: ERR_CANT_OPEN
	ErrCantCreate              Error = 20 // Godot: ERR_CANT_CREATE
	ErrQueryFailed             Error = 21 // Godot: ERR_QUERY_FAILED
	ErrAlreadyInUse            Error = 22 // Godot: ERR_ALREADY_IN_USE
	ErrLocked                  Error = 23 // Godot: ERR_LOCKED
	ErrTimeout                 Error = 24 // Godot: ERR_TIMEOUT
	ErrCantConnect             Error = 25 // Godot: ERR_CANT_CONNECT
	ErrCantResolve             Error = 26 // Godot: ERR_CANT_RESOLVE
	ErrConnectionError         Error = 27 // Godot: ERR_CONNECTION_ERROR
	ErrCantAcquireResource     Error = 28 // Godot: ERR_CANT_ACQUIRE_RESOURCE
	ErrCantFork                Error = 29 // Godot: ERR_CANT_FORK
	ErrInvalidData             Error = 30 // Godot: ERR_INVALID_DATA
	ErrInvalidParameter        Error = 31 // Godot: ERR_INVALID_PARAMETER
	ErrAlreadyExists           Error = 32 // Godot: ERR_ALREADY_EXISTS
	ErrDoesNotExist            Error = 33 // Godot: ERR_DOES_NOT_EXIST
	ErrDatabaseCantRead        Error = 34 // Godot: ERR_DATABASE_CANT_READ
	ErrDatabaseCantWrite       Error = 35 // Godot: ERR_DATABASE_CANT_WRITE
	ErrCompilationFailed       Error = 36 // Godot: ERR_COMPILATION_FAILED
	ErrMethodNotFound          Error = 37 // Godot: ERR_METHOD_NOT_FOUND
	ErrLinkFailed              Error = 38 // Godot: ERR_LINK_FAILED
	ErrScriptFailed            Error = 39 // Godot: ERR_SCRIPT_FAILED
	ErrCyclicLink              Error = 40 // Godot: ERR_CYCLIC_LINK
	ErrInvalidDeclaration      Error = 41 // Godot: ERR_INVALID_DECLARATION
	ErrDuplicateSymbol         Error = 42 // Godot: ERR_DUPLICATE_SYMBOL
	ErrParseError              Error = 43 // Godot: ERR_PARSE_ERROR
	ErrBusy                    Error = 44 // Godot: ERR_BUSY
	ErrSkip                    Error = 45 // Godot: ERR_SKIP
	ErrHelp                    Error = 46 // Godot: ERR_HELP
	ErrBug                     Error = 47 // Godot: ERR_BUG
	ErrPrinterOnFire           Error = 48 // Godot: ERR_PRINTER_ON_FIRE
)

var errorNames = [...]string{
	"OK", "FAILED", "ERR_UNAVAILABLE", "ERR_UNCONFIGURED", "ERR_UNAUTHORIZED",
	"ERR_PARAMETER_RANGE_ERROR", "ERR_OUT_OF_MEMORY", "ERR_FILE_NOT_FOUND",
	"ERR_FILE_BAD_DRIVE", "ERR_FILE_BAD_PATH", "ERR_FILE_NO_PERMISSION",
	"ERR_FILE_ALREADY_IN_USE", "ERR_FILE_CANT_OPEN", "ERR_FILE_CANT_WRITE",
	"ERR_FILE_CANT_READ", "ERR_FILE_UNRECOGNIZED", "ERR_FILE_CORRUPT",
	"ERR_FILE_MISSING_DEPENDENCIES", "ERR_FILE_EOF", "ERR_CANT_OPEN",
	"ERR_CANT_CREATE", "ERR_QUERY_FAILED", "ERR_ALREADY_IN_USE", "ERR_LOCKED",
	"ERR_TIMEOUT", "ERR_CANT_CONNECT", "ERR_CANT_RESOLVE", "ERR_CONNECTION_ERROR",
	"ERR_CANT_ACQUIRE_RESOURCE", "ERR_CANT_FORK", "ERR_INVALID_DATA",
	"ERR_INVALID_PARAMETER", "ERR_ALREADY_EXISTS", "ERR_DOES_NOT_EXIST",
	"ERR_DATABASE_CANT_READ", "ERR_DATABASE_CANT_WRITE", "ERR_COMPILATION_FAILED",
	"ERR_METHOD_NOT_FOUND", "ERR_LINK_FAILED", "ERR_SCRIPT_FAILED",
	"ERR_CYCLIC_LINK", "ERR_INVALID_DECLARATION", "ERR_DUPLICATE_SYMBOL",
	"ERR_PARSE_ERROR", "ERR_BUSY", "ERR_SKIP", "ERR_HELP", "ERR_BUG",
	"ERR_PRINTER_ON_FIRE",
}

// String returns Godot's constant name, e.g. "ERR_BUSY".
func (e Error) String() string {
	if e >= 0 && int(e) < len(errorNames) {
		return errorNames[e]
	}
	return "Error(" + strconv.Itoa(int(e)) + ")"
}

// Error implements error; the text is Godot's constant name.
func (e Error) Error() string { return e.String() }

// Code returns Godot's number for the error.
func (e Error) Code() int { return int(e) }

// CodeError is a Godot Error code together with the operation that failed and
// the real cause. Unwrap returns both, so errors.Is matches the code and
// errors.As reaches the cause.
type CodeError struct {
	Code Error  // Godot's code
	Op   string // what failed, e.g. "request" or "connect_to_host"
	Err  error  // the cause; may be nil
}

// Wrap returns cause annotated with a Godot code and the operation that
// failed, as a *CodeError. A nil cause gives a *CodeError that only carries
// the code and the operation.
func Wrap(code Error, op string, cause error) error {
	return &CodeError{Code: code, Op: op, Err: cause}
}

// Error returns "op: CODE_NAME: cause", leaving out the parts that are empty.
func (e *CodeError) Error() string {
	s := e.Code.String()
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the code and, when present, the cause.
func (e *CodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Code}
	}
	return []error{e.Code, e.Err}
}

// CodeOf returns the Godot Error carried by err (0, meaning OK, for nil; Failed
// for an error that carries no Godot code).
func CodeOf(err error) Error {
	if err == nil {
		return 0
	}
	var e Error
	if errors.As(err, &e) {
		return e
	}
	return Failed
}
