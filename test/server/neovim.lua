-- Driven by test/server/neovim.test.ts: a real headless Neovim with the documented setup,
-- recording what its built-in client sees into $MCP_POLICY_OUT (JSON).
local out = {}
local function done()
  local file = io.open(os.getenv('MCP_POLICY_OUT'), 'w')
  file:write(vim.fn.json_encode(out))
  file:close()
  vim.cmd('qa!')
end

local ok, err = pcall(function()
  local function codes()
    local list = {}
    for _, diagnostic in ipairs(vim.diagnostic.get(0)) do table.insert(list, diagnostic.code or diagnostic.message) end
    table.sort(list)
    return table.concat(list, ',')
  end
  out.attached = vim.wait(10000, function() return #vim.lsp.buf_get_clients(0) > 0 end, 50)
  vim.wait(10000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  out.first = codes()
  out.messages = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(0)) do table.insert(out.messages, diagnostic.message) end

  -- Completion after `"fluentcrm_res`: what the omnifunc would list for that prefix.
  local line = vim.fn.search('fluentcrm_res')
  local col = vim.fn.col('.') - 1 + #'fluentcrm_res'
  local params = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = line - 1, character = col } }
  local responses = vim.lsp.buf_request_sync(0, 'textDocument/completion', params, 5000) or {}
  out.completion = {}
  for _, response in pairs(responses) do
    for _, item in ipairs(vim.lsp.util.text_document_completion_list_to_complete_items(response.result or {}, 'fluentcrm_res')) do
      table.insert(out.completion, item.word)
    end
  end

  -- The catalog gains the misspelled name: Neovim 0.7 sends no didChangeWatchedFiles, the server must see it.
  local catalog = io.open(os.getenv('MCP_POLICY_CATALOG'), 'w')
  catalog:write(os.getenv('MCP_POLICY_NEW_CATALOG'))
  catalog:close()
  out.reloaded = vim.wait(10000, function() return not codes():find('unknown%-tool') end, 50)
  out.after = codes()
end)
if not ok then out.error = tostring(err) end
done()
