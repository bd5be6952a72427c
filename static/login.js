// The log-in form: its CSRF token from the cookie the server set with this page, returnTo and the outcome of
// the last try from the query.
'use strict';
const cookie = document.cookie.split('; ').find((c) => c.startsWith('igor_csrf='));
document.getElementById('csrf').value = cookie ? decodeURIComponent(cookie.slice('igor_csrf='.length)) : '';
const params = new URLSearchParams(location.search);
document.getElementById('returnTo').value = params.get('returnTo') || '/';
const error = document.getElementById('error');
error.hidden = !params.has('error');
if (params.has('wait')) error.textContent = `Too many failed log-ins. Try again in ${params.get('wait')} seconds.`;
