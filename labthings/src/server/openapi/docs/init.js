// The documentation page: Swagger UI on this server's OpenAPI document. When the server needs
// a token, the page asks for one (kept for this tab only, as the dashboard does) and sends it
// with every request, the document's included.
'use strict';

const TOKEN_KEY = 'labthings.token';
const documentUrl = new URL('openapi.json', window.location.href).href;

function start() {
  window.ui = SwaggerUIBundle({
    url: documentUrl,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor: (request) => {
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token && !request.headers.Authorization) {
        request.headers.Authorization = `Bearer ${token}`;
      }
      return request;
    },
    responseInterceptor: (response) => {
      if (response.url === documentUrl && response.status === 401) {
        const token = window.prompt('This server needs a token to show its API:');
        if (token) {
          sessionStorage.setItem(TOKEN_KEY, token.trim());
          window.location.reload();
        }
      }
      return response;
    },
  });
}

window.addEventListener('load', start);
