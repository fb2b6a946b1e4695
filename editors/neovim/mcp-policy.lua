-- MCP Policy language server for Neovim's built-in LSP client (0.7 or later).
-- Put this file in ~/.config/nvim/lua/ and add `require('mcp-policy')` to init.lua;
-- `mcp-policy` must be on PATH (`npm install -g mcp-policy`), or set vim.g.mcp_policy_cmd.
local patterns = { 'mcp-policy.json', '*.mcp-policy.json', '.mcp-policy.json', 'mcp-policy.jsonc', '*.mcp-policy.jsonc', '.mcp-policy.jsonc' }

-- Policies are JSON with comments.
vim.filetype.add({
  filename = { ['mcp-policy.json'] = 'jsonc', ['.mcp-policy.json'] = 'jsonc', ['mcp-policy.jsonc'] = 'jsonc', ['.mcp-policy.jsonc'] = 'jsonc' },
  pattern = { ['.*%.mcp%-policy%.jsonc?'] = 'jsonc' },
})

local client_id = nil

local function attach()
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    client_id = vim.lsp.start_client({
      name = 'mcp-policy',
      cmd = vim.g.mcp_policy_cmd or { 'mcp-policy', 'lsp', '--stdio' },
      -- Catalogs are found beside each policy; the server watches them itself when the
      -- client does not (Neovim 0.7 does not), so no root folder is needed.
      root_dir = vim.fn.expand('%:p:h'),
    })
  end
  if client_id ~= nil then
    vim.lsp.buf_attach_client(0, client_id)
    vim.bo.omnifunc = 'v:lua.vim.lsp.omnifunc'
  end
end

vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, { pattern = patterns, callback = attach })
