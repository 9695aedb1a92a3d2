#pragma once

// Everything a plugin needs, in one include.
#include <lxcri/backend.hpp>
#include <lxcri/container_spec.hpp>
#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/log.hpp>
#include <lxcri/mapping.hpp>
#include <lxcri/plugin.hpp>
#include <lxcri/types.hpp>
#include <lxcri/undo.hpp>
#include <lxcri/unique_fd.hpp>
