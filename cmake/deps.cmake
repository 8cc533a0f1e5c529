# Every dependency comes through pkg-config.  A missing one stops the
# configure step with the Debian package that provides it.
find_package(PkgConfig REQUIRED)

set(SIGNALBOX_PKGS
	"ncursesw:libncurses-dev"
	"libcurl:libcurl4-openssl-dev"
	"libpq:libpq-dev"
	"hiredis:libhiredis-dev"
	"libcjson:libcjson-dev"
	"libwebsockets:libwebsockets-dev libwebsockets-evlib-uv"
	"libuv:libuv1-dev"
	"libfyaml:libfyaml-dev"
	"libpcre2-8:libpcre2-dev")

set(SIGNALBOX_DEPS "")
foreach(entry IN LISTS SIGNALBOX_PKGS)
	string(REPLACE ":" ";" parts "${entry}")
	list(GET parts 0 mod)
	list(GET parts 1 deb)
	string(MAKE_C_IDENTIFIER "${mod}" var)
	pkg_check_modules(PC_${var} QUIET IMPORTED_TARGET ${mod})
	if(NOT PC_${var}_FOUND)
		message(FATAL_ERROR "signalbox needs ${mod}: apt-get install ${deb}"
			" (or run 'make deps')")
	endif()
	list(APPEND SIGNALBOX_DEPS PkgConfig::PC_${var})
endforeach()

# hiredis' pkg-config adds -I/usr/include/hiredis, whose async.h, read.h,
# sds.h and alloc.h can shadow ours: keep only its defines (PITFALLS).
set_property(TARGET PkgConfig::PC_hiredis PROPERTY INTERFACE_INCLUDE_DIRECTORIES "")

if(SIGNALBOX_TESTS)
	pkg_check_modules(PC_cmocka QUIET IMPORTED_TARGET cmocka)
	if(NOT PC_cmocka_FOUND)
		message(FATAL_ERROR "the tests need cmocka: apt-get install libcmocka-dev")
	endif()
endif()
